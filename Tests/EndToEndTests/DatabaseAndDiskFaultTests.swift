import AttentiveSimulator
import Foundation
import Postgres
import Reports
import TestSupport
import Testing

/// Issue 24: the job's other two neighbours, PostgreSQL and the filesystem, under the same test as Attentive. Each
/// fault is real: a terminated backend, a tiny tmpfs.
@Suite(.serialized) struct DatabaseAndDiskFaultTests {
    /// The backend holding the run's advisory lock in `database`, once the run holds it.
    static func lockHolder(_ harness: ExecutableHarness) throws -> Int? {
        try harness.database.query(
            """
            SELECT pid FROM pg_locks
            WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = $1)
            LIMIT 1
            """, [harness.database.name]
        ).first?.int(0)
    }

    @Test func aRunWhoseLockIsTakenAwayStopsSendingAtOnceAndTheNextConverges() async throws {
        // Answers take 150 ms, as in the probe; at the default 150 requests a second and concurrency 32,
        // the run needs seconds for 600 participants, so the termination lands mid-send.
        let harness = try await ExecutableHarness { $0.latencyMilliseconds = 150 }
        try harness.insertParticipants(0..<600)
        let first = try JobProcess(["run"], environment: harness.environment)
        #expect(try await harness.wait { harness.simulator.statistics().requests >= 60 })
        let holder = try #require(try Self.lockHolder(harness))
        let admin = try harness.database.connect()
        defer { admin.close() }
        _ = try admin.query("SELECT pg_terminate_backend($1)", [String(holder)])
        let requestsAtTermination = harness.simulator.statistics().requests
        // A second run may take the free lock at once; it is the only one sending from then on.
        let second = try JobProcess(["run"], environment: harness.environment)
        let stopped = await first.wait()
        #expect(stopped.status == 75, "\(stopped.stderr)")
        #expect(stopped.stderr.contains("the run lost its lock"), "\(stopped.stderr)")
        // The participants the first run sent a request for (an HTTP status in its changes.csv: one request a
        // participant, the simulator injects no faults), less what the simulator had received when the lock went:
        // the requests it started after the termination.
        let folder = try #require(
            stopped.stdout.split(separator: "\n").first { $0.hasPrefix("reports: ") }?.dropFirst("reports: ".count))
        let changes = try String(contentsOfFile: String(folder) + "/changes.csv", encoding: .utf8)
        let rows = CSVReader.parse(changes)
        let header = try #require(rows.first)
        let customer = try #require(header.firstIndex(of: "customer_id"))
        let status = try #require(header.firstIndex(of: "http_status"))
        let sent = Set(rows.dropFirst().filter { $0.count == header.count && !$0[status].isEmpty }.map { $0[customer] })
        let afterTermination = sent.count - requestsAtTermination
        #expect(afterTermination <= 32, "the first run started \(afterTermination) requests after losing its lock")
        let secondFinished = await second.wait()
        #expect([0, 75].contains(secondFinished.status), "\(secondFinished.stderr)")
        // Whatever the second run found, the next run converges: every participant has its four attributes, the
        // ledger agrees, and a quiet run sends nothing.
        var fast = harness.simulator.configuration
        fast.latencyMilliseconds = 0
        harness.simulator.update(configuration: fast)
        let converging = try await JobProcess.run(["run"], environment: harness.environment)
        #expect(converging.status == 0, "\(converging.stderr)")
        #expect(harness.simulator.profiles().count == 600)
        #expect(harness.simulator.profiles().allSatisfy { $0.attributes.count == 4 })
        let before = harness.simulator.statistics().requests
        let quiet = try await JobProcess.run(["run"], environment: harness.environment)
        #expect(quiet.status == 0, "\(quiet.stderr)")
        #expect(harness.simulator.statistics().requests == before)
    }

    @Test func aFullDiskIsExit74AndTheRunHistorySaysTheReportsAreMissing() async throws {
        let mount = try makeTemporaryFolder("full-disk")
        let mounted = try await ChildProcess.run("/bin/mount", ["-t", "tmpfs", "-o", "size=48k", "tmpfs", mount])
        try #require(mounted.status == 0, "mount needs root: \(mounted.output)")
        defer { _ = umount2(mount, 0) }
        let harness = try await ExecutableHarness()
        try harness.insertParticipants(0..<300)
        let metrics = harness.reportsDirectory + "/referral_sync.prom"
        let finished = try await JobProcess.run(
            ["run", "--reports-dir", mount, "--metrics-file", metrics], environment: harness.environment)
        #expect(finished.status == 74, "\(finished.stderr)")
        #expect(finished.stderr.contains("the reports could not be written"), "\(finished.stderr)")
        #expect(finished.stderr.contains("No space left on device"), "\(finished.stderr)")
        // What was sent stays recorded: the next run (with room) sends nothing again.
        #expect(harness.simulator.profiles().count == 300)
        let history = try #require(
            try harness.database.query("SELECT exit_status, message FROM referral_sync_runs ORDER BY run_id DESC")
                .first)
        #expect(history.int(0) == 74)
        #expect(history[1]?.contains("the reports could not be written") == true)
        let written = try String(contentsOfFile: metrics, encoding: .utf8)
        #expect(written.contains("referral_sync_last_exit_status{command=\"run\"} 74"), "\(written)")
        let before = harness.simulator.statistics().requests
        let next = try await JobProcess.run(["run"], environment: harness.environment)
        #expect(next.status == 0, "\(next.stderr)")
        #expect(harness.simulator.statistics().requests == before)

        // Every command that writes a folder ends the same way on the full disk (the one command end).
        for command in [["events"], ["drift"], ["revenue", "--by", "day"]] {
            let full = try await JobProcess.run(command + ["--reports-dir", mount], environment: harness.environment)
            #expect(full.status == 74, "\(command): \(full.stderr)")
            #expect(full.stderr.contains("the reports could not be written"), "\(command): \(full.stderr)")
        }
        // explain writes to standard output: redirected to a file on the full disk, it is 74 too, never 0.
        _ = FileManager.default.createFile(atPath: mount + "/filler", contents: Data(count: 64 * 1024))
        let binary = try #require(JobProcess.binary)
        let explained = try SpawnedProcess(
            binary, ["explain", "p001"], outputPath: mount + "/explain.md",
            errorPath: harness.reportsDirectory + "/err",
            environment: harness.environment)
        let exit = await explained.exit(within: 60)
        #expect(exit?.status == 74)
        let stderr = try String(contentsOfFile: harness.reportsDirectory + "/err", encoding: .utf8)
        #expect(stderr.contains("referral-sync: exit 74: standard output could not be written"), "\(stderr)")
    }

    @Test func aRolesStatementAndIdleTimeoutsShorterThanARefreshDoNotStopTheJob() async throws {
        let harness = try await ExecutableHarness { $0.latencyMilliseconds = 50 }
        try harness.insertParticipants(0..<200)
        let role = "timeouts_" + harness.database.name
        try harness.database.run(
            """
            CREATE ROLE \(role) LOGIN SUPERUSER;
            ALTER ROLE \(role) IN DATABASE \(harness.database.name) SET statement_timeout = '1ms';
            ALTER ROLE \(role) IN DATABASE \(harness.database.name) SET idle_in_transaction_session_timeout = '20ms';
            """)
        defer { try? harness.database.run("DROP OWNED BY \(role); DROP ROLE \(role)") }
        let conninfo = harness.database.conninfo.replacingOccurrences(of: "user=referral", with: "user=\(role)")
        // The role's settings are real: a session of its own is cancelled at once.
        let probe = try PostgresConnection(conninfo: conninfo)
        #expect(throws: PostgresError.self) { try probe.run("SELECT pg_sleep(0.05)") }
        probe.close()
        let environment = harness.environment.merging(["DATABASE_URL": conninfo]) { $1 }
        let first = try await JobProcess.run(["run", "--full-recompute"], environment: environment)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(harness.simulator.profiles().count == 200)
        let drift = try await JobProcess.run(["drift"], environment: environment)
        #expect(drift.status == 0, "\(drift.stderr)")
    }

    @Test func aReadOnlyServerIsAConfigurationErrorThatSaysReadOnly() async throws {
        let harness = try await ExecutableHarness()
        try harness.insertParticipants(0..<3)
        try harness.database.run(
            "ALTER DATABASE \(harness.database.name) SET default_transaction_read_only = on")
        let finished = try await JobProcess.run(["run"], environment: harness.environment)
        #expect(finished.status == 78, "\(finished.stderr)")
        #expect(finished.stderr.contains("the database is read-only"), "\(finished.stderr)")
        #expect(finished.stderr.contains("primary server"), "\(finished.stderr)")
        #expect(harness.simulator.statistics().requests == 0)
    }
}
