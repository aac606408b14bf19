import AttentiveSimulator
import Foundation
import Postgres
import TestSupport
import Testing

@testable import ReferralSyncCLI
@testable import ReferralSyncJob

/// A refused key, a spent retry budget and a lost database: each ends the run with the right exit status and every
/// changed value accounted for, and the next run converges.
@Suite struct ResilienceTests {
    @Test(arguments: ["v1", "bulk"])
    func refusedKeyStopsTheRunAtTheFirstRefusalWithExit77(mode: String) async throws {
        let harness = try await JobHarness { $0.forbiddenKeys = [$0.apiKey] }
        try ReferralHistory.participants(0..<10).insert(into: harness.database)
        let (status, reports) = await harness.run(
            ["--mode", mode, "--concurrency", "1", "--bulk-batch-size", "2", "--currency", "USD"])
        #expect(status == .permissionDenied)
        #expect(harness.simulator.statistics().requests == 1)
        let changes = try #require(reports).csv("changes.csv")
        let refused = changes.filter { $0["http_status"] == "403" }
        #expect(Set(refused.map { $0["customer_id"] ?? "" }).count == (mode == "v1" ? 1 : 2))
        let notSent = changes.filter { $0["http_status"] != "403" }
        #expect(!notSent.isEmpty)
        #expect(notSent.allSatisfy { $0["outcome"] == "failed" && ($0["error"] ?? "").hasPrefix("not sent: ") })
        #expect(try #require(reports).text("summary.md").contains("exit 77"))
        let pending = try harness.database.query("SELECT count(*), min(state), max(state) FROM referral_sync_pending")
        #expect(pending.first?.int(0) == changes.count)
        #expect(pending.first?[1] == "failed" && pending.first?[2] == "failed")
        #expect(try harness.database.query("SELECT count(*) FROM referral_sync_ledger").first?.int(0) == 0)
    }

    @Test func spentRetryBudgetGivesUpInsteadOfRetrying() async throws {
        let harness = try await JobHarness { $0.faults.internalErrorRate = 1 }
        try ReferralHistory.participants(0..<3).insert(into: harness.database)
        let (status, reports) = await harness.run(
            ["--currency", "USD"], environment: ["REFERRAL_SYNC_RETRY_BUDGET": "0"])
        #expect(status == .needsAttention)
        let changes = try #require(reports).csv("changes.csv")
        #expect(!changes.isEmpty)
        #expect(
            changes.allSatisfy {
                $0["outcome"] == "failed" && $0["attempts"] == "1" && $0["http_status"] == "500"
                    && ($0["error"] ?? "").contains("retry time budget spent")
            }, "\(changes)")
        #expect(harness.simulator.statistics().requests == 3)
    }

    @Test func retriesAreBoundedInAttempts() async throws {
        let harness = try await JobHarness { $0.faults.internalErrorRate = 1 }
        try ReferralHistory.participants(0..<1).insert(into: harness.database)
        let (status, reports) = await harness.run(["--currency", "USD", "--retry-budget", "60"])
        #expect(status == .needsAttention)
        let changes = try #require(reports).csv("changes.csv")
        #expect(changes.allSatisfy { $0["outcome"] == "failed" && $0["attempts"] == "6" }, "\(changes)")
        #expect(harness.simulator.statistics().requests == 6)
    }

    /// The job's connections are terminated mid-run: the run ends with 69 and its reports, and the next run sends
    /// what was not recorded (again, harmlessly, for what Attentive accepted meanwhile) and converges.
    @Test(arguments: ["v1", "bulk"])
    func lostDatabaseConnectionExits69AndTheNextRunConverges(mode: String) async throws {
        // 30 participants, one request at a time, 300 ms each (bulk: one participant a job): about 9 s of sending,
        // so the connections are terminated mid-run even when a loaded machine delays the test.
        let harness = try await JobHarness {
            $0.latencyMilliseconds = 300
            $0.bulkCompletionDelayMilliseconds = 20
        }
        try ReferralHistory.participants(0..<30).insert(into: harness.database)
        let arguments = ["--mode", mode, "--concurrency", "1", "--bulk-batch-size", "1", "--currency", "USD"]
        let database = harness.database
        let simulator = harness.simulator
        let disconnect = Task {
            let deadline = Date().addingTimeInterval(60)
            while simulator.statistics().requests < 3 && Date() < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            let terminated = try database.query(
                """
                SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                WHERE datname = current_database() AND pid <> pg_backend_pid()
                """)
            return terminated.first?.int(0) ?? 0
        }
        let (status, reports) = await harness.run(arguments)
        #expect(try await disconnect.value >= 2)
        #expect(status == .unavailable)
        #expect(try #require(reports).text("summary.md").contains("exit 69"))

        var fast = harness.simulator.configuration
        fast.latencyMilliseconds = 0
        harness.simulator.update(configuration: fast)
        let (next, nextReports) = await harness.run(arguments)
        #expect(next == .success)
        let mismatches = try Convergence.mismatches(
            truth: try #require(nextReports).csv("attributes.csv"), database: harness.database,
            simulator: harness.simulator)
        #expect(mismatches.isEmpty, "\(mismatches)")
    }
}
