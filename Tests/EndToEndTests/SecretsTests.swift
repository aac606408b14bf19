import Foundation
import TestSupport
import Testing

/// The API key and the database password never appear in any output: stdout, stderr, report files, the run
/// history, the job's tables or the metrics file.
@Suite struct SecretsTests {
    static let apiKey = "sk-live-ULTRAVIOLET-PELICAN-7d1f3a9c"
    /// The password of `password_user`, which scripts/with-postgres.sh creates (scram over TCP 127.0.0.1).
    static let password = "correct-horse-battery"
    static let wrongPassword = "wrong-horse-staple-5e8b"

    @Test func noSecretAppearsInAnyOutput() async throws {
        let harness = try await ExecutableHarness(apiKey: Self.apiKey)
        try harness.insertParticipants(0..<5)
        let server = try TestDatabase.serverConninfo()
        let port = try #require(server.split(separator: " ").first { $0.hasPrefix("port=") }?.dropFirst(5))
        let url = "postgresql://password_user:\(Self.password)@127.0.0.1:\(port)/\(harness.database.name)"
        let wrongURL = "postgresql://password_user:\(Self.wrongPassword)@127.0.0.1:\(port)/\(harness.database.name)"
        let withoutPassword = "postgresql://password_user@127.0.0.1:\(port)/\(harness.database.name)"
        let metrics = harness.reportsDirectory + "/referral_sync.prom"
        var environment = harness.environment
        environment["DATABASE_URL"] = url

        var outputs: [String] = []
        var statuses: [Int32] = []
        func job(_ arguments: [String], _ extra: [String: String] = [:]) async throws {
            let finished = try await JobProcess.run(arguments, environment: environment.merging(extra) { $1 })
            statuses.append(finished.status)
            // Every non-zero exit prints exactly one line saying what happened and what to do.
            let instructions = finished.stderr.split(separator: "\n").filter { $0.hasPrefix("referral-sync: exit ") }
            if finished.status == 0 {
                #expect(instructions.isEmpty)
            } else {
                #expect(instructions.count == 1)
                #expect(instructions.first?.hasPrefix("referral-sync: exit \(finished.status): ") == true)
            }
            outputs += [finished.stdout, finished.stderr]
        }
        try await job(["run", "--verbose", "--metrics-file", metrics])
        try await job(["run", "--log-format", "json", "--verbose", "--database-url", url, "--dry-run"])
        try await job(["drift", "--verbose", "--metrics-file", metrics + ".drift"])
        try await job(["history", "--last", "10"])
        try await job(["run", "--verbose"], ["DATABASE_URL": withoutPassword, "PGPASSWORD": Self.password])
        try await job(["run", "--verbose"], ["DATABASE_URL": wrongURL])
        try await job(["run", "--verbose", "--database-url", wrongURL])
        var forbidden = harness.simulator.configuration
        forbidden.forbiddenKeys = [Self.apiKey]
        harness.simulator.update(configuration: forbidden)
        var more = ReferralHistory()
        more.referral("r-extra", by: "p000")
        more.order("o-extra", for: "r-extra", total: "3.00")
        try more.insert(into: harness.database)
        try await job(["run", "--verbose", "--metrics-file", metrics])
        try await job(["drift", "--verbose"])
        #expect(statuses == [0, 0, 0, 0, 0, 78, 78, 77, 77])

        for folder in try FileManager.default.subpathsOfDirectory(atPath: harness.reportsDirectory) {
            let path = harness.reportsDirectory + "/" + folder
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                outputs.append(try String(contentsOfFile: path, encoding: .utf8))
            }
        }
        for table in ["referral_sync_runs", "referral_sync_pending", "referral_sync_ledger"] {
            outputs += try harness.database.query("SELECT row_to_json(t)::text FROM \(table) t").compactMap { $0[0] }
        }
        let everything = outputs.joined(separator: "\n")
        // The outputs are real: logs, reports, history and metrics were all written.
        #expect(everything.contains("level=debug") || everything.contains("\"level\":\"debug\""))
        #expect(everything.contains("referral_sync_last_run_timestamp_seconds"))
        #expect(everything.contains("Okendo Number of Successful Referrals"))
        #expect(everything.contains("--database-url postgresql://password_user:***@127.0.0.1"))
        #expect(everything.contains("refused the credentials"))
        #expect(everything.contains("403"))
        #expect(try harness.database.query("SELECT count(*) FROM referral_sync_runs").first?.int(0) ?? 0 >= 6)

        for secret in [Self.apiKey, Self.password, Self.wrongPassword, "ULTRAVIOLET", "horse-battery"] {
            #expect(!everything.contains(secret), "\(secret) appeared in an output")
        }
    }
}
