import AttentiveSimulator
import Foundation
import Postgres
import TestSupport
import Testing

/// Issue 24: PostgreSQL restarted under a run (`pg_ctl restart -m fast`), on a cluster of the test's own so no
/// other test loses its server.
@Suite struct PostgresRestartTests {
    @Test func postgreSQLRestartedMidSendIsExit69NothingFalselyConfirmedAndTheNextRunConverges() async throws {
        let cluster = try await PrivateCluster()
        let database = try TestDatabase.create(prefix: "restart", server: cluster.server)
        let simulator = AttentiveSimulator(
            configuration: {
                var configuration = SimulatorConfiguration(apiKey: "restart-key")
                configuration.latencyMilliseconds = 150
                return configuration
            }())
        try simulator.start()
        let reports = try makeTemporaryFolder("restart-reports")
        defer {
            simulator.stop()
            try? FileManager.default.removeItem(atPath: reports)
        }
        let environment = [
            "ATTENTIVE_API_KEY": "restart-key", "ATTENTIVE_BASE_URL": simulator.baseURL.absoluteString,
            "DATABASE_URL": database.conninfo, "REFERRAL_SYNC_REPORTS_DIR": reports,
        ]
        #expect(try await JobProcess.run(["migrate"], environment: environment).status == 0)
        var history = ReferralHistory()
        for index in 0..<600 {
            let id = String(format: "p%03d", index)
            history.customer(.init(id, email: "\(id)@example.com", link: "https://test.oken.do/\(id)"))
            history.referral("r-\(id)", by: id)
            history.order("o-\(id)", for: "r-\(id)", total: "10.00")
        }
        try history.insert(into: database)
        let run = try JobProcess(["run"], environment: environment)
        #expect(try await waitUntil { simulator.statistics().requests >= 60 })
        try await cluster.restart()
        let stopped = await run.wait()
        #expect(stopped.status == 69, "\(stopped.stderr)")
        #expect(stopped.stderr.contains("referral-sync: exit 69: "), "\(stopped.stderr)")
        // The next run converges, and drift finds Attentive holding exactly what the ledger says was confirmed.
        var fast = simulator.configuration
        fast.latencyMilliseconds = 0
        simulator.update(configuration: fast)
        let next = try await JobProcess.run(["run"], environment: environment)
        #expect(next.status == 0, "\(next.stderr)")
        #expect(simulator.profiles().count == 600)
        let drift = try await JobProcess.run(["drift"], environment: environment)
        #expect(drift.status == 0, "\(drift.stderr)")
        await cluster.stop()
    }

    @Test func postgreSQLRestartedMidRefreshIsExit69AndTheNextRunComputesWhatAFullRecomputeDoes() async throws {
        let cluster = try await PrivateCluster()
        let database = try TestDatabase.create(prefix: "refresh_restart", server: cluster.server)
        let reports = try makeTemporaryFolder("refresh-restart-reports")
        defer { try? FileManager.default.removeItem(atPath: reports) }
        let environment = ["DATABASE_URL": database.conninfo, "REFERRAL_SYNC_REPORTS_DIR": reports]
        #expect(try await JobProcess.run(["migrate"], environment: environment).status == 0)
        // The benchmark's generator: enough customers that the first, full refresh takes seconds.
        let generator = try String(contentsOfFile: repositoryRoot + "/scripts/bench/generate.sql", encoding: .utf8)
        try database.run("SET bench.participants = 50000;\n" + generator)
        let options = ["--dry-run", "--as-of", "2025-01-01T00:00:00Z", "--currency", "USD"]
        let run = try JobProcess(["run"] + options, environment: environment)
        let refreshing = try await waitUntil(seconds: 120) {
            try !database.query(
                "SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%referral_sync_refresh(%'"
                    + " AND pid <> pg_backend_pid()"
            ).isEmpty
        }
        #expect(refreshing, "the refresh was never seen running")
        try await cluster.restart()
        let stopped = await run.wait()
        #expect(stopped.status == 69, "\(stopped.stderr)")
        // The refresh was one transaction: the next run finds the kept recompute as before it, brings it up to
        // date, and its values are a full recompute's.
        let next = try await JobProcess.run(["run"] + options, environment: environment)
        #expect(next.status == 0, "\(next.stderr)")
        let nextFolder = try FileManager.default.destinationOfSymbolicLink(atPath: reports + "/latest")
        let full = try await JobProcess.run(["run", "--full-recompute"] + options, environment: environment)
        #expect(full.status == 0, "\(full.stderr)")
        let fullFolder = try FileManager.default.destinationOfSymbolicLink(atPath: reports + "/latest")
        let attributes = { (folder: String) in
            try String(contentsOfFile: reports + "/" + folder + "/attributes.csv", encoding: .utf8)
        }
        #expect(nextFolder != fullFolder)
        #expect(try attributes(nextFolder) == attributes(fullFolder))
        await cluster.stop()
    }

    @Test func theFollowerRidesOutAPostgreSQLRestartAndDeliversWhatCameMeanwhile() async throws {
        let cluster = try await PrivateCluster()
        let database = try TestDatabase.create(prefix: "follow_restart", server: cluster.server)
        let simulator = AttentiveSimulator(configuration: SimulatorConfiguration(apiKey: "follow-restart-key"))
        try simulator.start()
        let reports = try makeTemporaryFolder("follow-restart-reports")
        defer {
            simulator.stop()
            try? FileManager.default.removeItem(atPath: reports)
        }
        let environment = [
            "ATTENTIVE_API_KEY": "follow-restart-key", "ATTENTIVE_BASE_URL": simulator.baseURL.absoluteString,
            "DATABASE_URL": database.conninfo, "REFERRAL_SYNC_REPORTS_DIR": reports,
        ]
        #expect(try await JobProcess.run(["migrate"], environment: environment).status == 0)
        let follower = try JobProcess(
            ["events", "--follow", "--currency", "USD", "--sweep-seconds", "3600"], environment: environment)
        let log = { (try? String(contentsOfFile: follower.stderrPath, encoding: .utf8)) ?? "" }
        #expect(try await waitUntil(seconds: 120) { log().contains("follower=listener:listening") })
        try database.run(EventFollowerTests.referrals("before", 2))
        #expect(try await waitUntil(seconds: 120) { simulator.acceptedEvents().count >= 6 })

        try await cluster.restart()
        // Rows committed after the restart, while the follower is still reconnecting or just back.
        try database.run(EventFollowerTests.referrals("after", 3))
        let delivered = try await waitUntil(seconds: 120) { simulator.acceptedEvents().count >= 15 }
        #expect(delivered, "\(log())")
        #expect(log().contains("follower=term:reconnecting"), "\(log())")
        var ids: [String: Int] = [:]
        for text in simulator.acceptedEvents() {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            ids[try #require(object["externalEventId"] as? String), default: 0] += 1
        }
        #expect(ids.count == 15)
        #expect(ids.values.allSatisfy { $0 == 1 })
        kill(follower.process.processIdentifier, SIGTERM)
        #expect(await follower.wait().status == 143)
        await cluster.stop()
    }
}
