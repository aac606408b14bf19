import AttentiveSimulator
import Foundation
import TestSupport
import Testing

@testable import ReferralSyncCLI
@testable import ReferralSyncJob

/// With the simulator's faults switched on (500s, HTML 502s, spurious 429s, timeouts, dropped connections,
/// unreadable success bodies, and identities it refuses), runs until nothing changes any more end with every value
/// in Attentive exactly as computed, the ledger agreeing with Attentive, and nothing refused marked synced.
@Suite struct FaultConvergenceTests {
    static let refused: Set<String> = ["p004@example.com", "p011@example.com"]
    static let refusedCustomers: Set<String> = ["p004", "p011"]

    static func faultySimulator(seed: UInt64) -> (inout SimulatorConfiguration) -> Void {
        { configuration in
            configuration.faults.internalErrorRate = 0.05
            configuration.faults.htmlErrorRate = 0.02
            configuration.faults.tooManyRequestsRate = 0.05
            configuration.faults.timeoutRate = 0.02
            configuration.faults.dropConnectionRate = 0.02
            configuration.faults.unexpectedBodyRate = 0.02
            configuration.faults.hangSeconds = 2
            configuration.faults.badIdentities = Array(refused)
            // A failure the next run retries: 400 would be a refusal, parked after its first answer (README
            // "Refusals"); 404 is final for the request but not about its content.
            configuration.faults.rejectionStatus = 404
            configuration.latencyMilliseconds = 2
            configuration.latencyJitterMilliseconds = 8
            configuration.bulkCompletionDelayMilliseconds = 30
            configuration.seed = seed
        }
    }

    @Test(arguments: ["v1", "bulk"])
    func everyChangedValueReachesAttentiveExactlyDespiteFaults(mode: String) async throws {
        let harness = try await JobHarness(simulator: Self.faultySimulator(seed: mode == "v1" ? 7 : 11))
        try ReferralHistory.participants(0..<60).insert(into: harness.database)
        let arguments = [
            "--mode", mode, "--currency", "USD", "--request-timeout", "0.5", "--bulk-batch-size", "4",
            "--bulk-wait", "60",
        ]
        var runs: [(status: ReferralSyncJob.ExitStatus, changes: [[String: String]], truth: [[String: String]])] = []
        var converged = false
        for _ in 0..<8 where !converged {
            let (status, reports) = await harness.run(arguments)
            let files = try #require(reports)
            runs.append((status, try files.csv("changes.csv"), try files.csv("attributes.csv")))
            // Each run: every changed value has exactly one outcome, and the database and Attentive bear it out.
            let unaccounted = try Convergence.unaccounted(
                changes: try files.csv("changes.csv"), database: harness.database, simulator: harness.simulator)
            #expect(unaccounted.isEmpty, "run \(runs.count): \(unaccounted)")
            let early = try Convergence.ledgerNotInAttentive(database: harness.database, simulator: harness.simulator)
            #expect(early.isEmpty, "run \(runs.count): \(early)")
            // Converged: only the refused values are left, failed with Attentive's 400 message (not, say, a
            // whole batch lost to faults).
            converged = try files.csv("changes.csv").allSatisfy {
                Self.refusedCustomers.contains($0["customer_id"] ?? "") && $0["outcome"] == "failed"
                    && ($0["error"] ?? "").contains("identifier is invalid")
            }
        }
        let last = try #require(runs.last)
        #expect(converged, "no convergence after \(runs.count) runs")
        #expect(last.status == .needsAttention)  // the refused values fail every run, and stay pending
        let mismatches = try Convergence.mismatches(
            truth: last.truth, database: harness.database, simulator: harness.simulator, refused: Self.refused)
        #expect(mismatches.isEmpty, "\(mismatches)")

        // The faults were really there, and were survived rather than avoided.
        let faults = harness.simulator.statistics().faultsInjected
        let injected = faults.filter { $0.key != "badIdentity" }.values.reduce(0, +)
        #expect(injected >= 3, "\(faults)")
        #expect((faults["badIdentity"] ?? 0) >= 2)

        // Refused values failed with Attentive's message, were never marked synced, and stay pending as failed.
        let refusedRows = last.changes
        #expect(refusedRows.count == 8)  // the four values of p004 and of p011, who both referred
        if mode == "v1" {
            // A 404 is final: the last attempt got it and nothing was retried after it.
            #expect(refusedRows.allSatisfy { $0["http_status"] == "404" }, "\(refusedRows)")
        }
        for run in runs {
            #expect(
                !run.changes.contains {
                    Self.refusedCustomers.contains($0["customer_id"] ?? "") && $0["outcome"] == "synced"
                })
        }
        let pending = try harness.database.query(
            "SELECT count(*) FROM referral_sync_pending WHERE state = 'failed' AND error LIKE '%identifier is invalid%'"
        )
        #expect(pending.first?.int(0) == refusedRows.count)
    }
}
