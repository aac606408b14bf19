import AttentiveSimulator
import Foundation
import Postgres
import ReferralModel
import ReferralStore
import TestSupport
import Testing

@testable import ReferralSyncCLI
@testable import ReferralSyncJob

/// `--mode bulk`: batches, durable job records, polling, per-record results, and the in-flight rule.
@Suite struct BulkModeTests {
    /// A harness whose bulk jobs stay in progress until the test completes them.
    static func heldJobs() async throws -> JobHarness {
        try await JobHarness { $0.bulkCompletionDelayMilliseconds = 3_600_000 }
    }

    static func count(_ harness: JobHarness, _ sql: String) throws -> Int {
        try harness.database.query(sql).first?.int(0) ?? -1
    }

    @Test func bulkRunSendsChangedParticipantsInJobsAndRecordsTheLedger() async throws {
        let harness = try await JobHarness { $0.bulkCompletionDelayMilliseconds = 20 }
        try ReferralHistory.participants(0..<5).insert(into: harness.database)
        let (status, reports) = await harness.run(["--mode", "bulk", "--bulk-batch-size", "2", "--currency", "USD"])
        #expect(status == .success)
        let files = try #require(reports)
        let changes = try files.csv("changes.csv")
        // Link, count and revenue of all five; the latest date of the three who referred (p001, p002, p004).
        #expect(changes.count == 18)
        #expect(changes.allSatisfy { $0["outcome"] == "synced" && $0["http_status"] == "202" }, "\(changes)")
        #expect(harness.simulator.statistics().bulkJobsSubmitted == 3)
        #expect(harness.simulator.statistics().acceptedUpdates == 0)
        let mismatches = try Convergence.mismatches(
            truth: try files.csv("attributes.csv"), database: harness.database, simulator: harness.simulator)
        #expect(mismatches.isEmpty, "\(mismatches)")
        #expect(try Self.count(harness, "SELECT count(*) FROM referral_sync_bulk_jobs WHERE status = 'completed'") == 3)
        #expect(
            try files.text("summary.md").contains("Submitted by this run: 3 completed (5 records synced, 0 failed)"))

        let (again, second) = await harness.run(["--mode", "bulk", "--currency", "USD"])
        #expect(again == .success)
        #expect(try #require(second).csv("changes.csv").isEmpty)
        #expect(harness.simulator.statistics().bulkJobsSubmitted == 3)
    }

    @Test func jobStillInProgressStaysInFlightAndTheNextRunCollectsItWithoutResending() async throws {
        let harness = try await Self.heldJobs()
        try ReferralHistory.participants(0..<4).insert(into: harness.database)
        let (status, reports) = await harness.run(["--mode", "bulk", "--bulk-wait", "0", "--currency", "USD"])
        #expect(status == .success)
        let changes = try #require(reports).csv("changes.csv")
        #expect(!changes.isEmpty && changes.allSatisfy { $0["outcome"] == "in_flight" }, "\(changes)")
        #expect(try Self.count(harness, "SELECT count(*) FROM referral_sync_ledger") == 0)
        let pending = try harness.database.query("SELECT count(*), min(state), max(state) FROM referral_sync_pending")
        #expect(pending.first?.int(0) == changes.count)
        #expect(pending.first?[1] == "in_flight" && pending.first?[2] == "in_flight")
        #expect(try #require(reports).text("summary.md").contains("1 still in progress"))

        // Still in progress: the next run polls it, sends none of its participants again, marks nothing synced.
        let (held, heldReports) = await harness.run(["--mode", "bulk", "--bulk-wait", "0", "--currency", "USD"])
        #expect(held == .success)
        #expect(try #require(heldReports).csv("changes.csv").allSatisfy { $0["outcome"] == "in_flight" })
        #expect(harness.simulator.statistics().bulkJobsSubmitted == 1)
        #expect(try Self.count(harness, "SELECT count(*) FROM referral_sync_ledger") == 0)

        #expect(harness.simulator.completeBulkJobs() == 1)
        let (collected, collectedReports) = await harness.run(["--mode", "bulk", "--currency", "USD"])
        #expect(collected == .success)
        let files = try #require(collectedReports)
        #expect(try files.csv("changes.csv").isEmpty)
        #expect(try files.text("summary.md").contains("Left in flight by earlier runs: 1 completed (4 records synced"))
        #expect(harness.simulator.statistics().bulkJobsSubmitted == 1)
        let mismatches = try Convergence.mismatches(
            truth: try files.csv("attributes.csv"), database: harness.database, simulator: harness.simulator)
        #expect(mismatches.isEmpty, "\(mismatches)")
    }

    /// A participant whose values change while a job carries the old ones is held back, in either mode, until the
    /// job resolves; then the newer values are sent, so Attentive never ends up with the older ones.
    @Test(arguments: ["v1", "bulk"])
    func participantThatChangesWhileInFlightIsSentAfterTheJobResolves(nextMode: String) async throws {
        let harness = try await Self.heldJobs()
        try ReferralHistory.participants(0..<3).insert(into: harness.database)
        _ = await harness.run(["--mode", "bulk", "--bulk-wait", "0", "--currency", "USD"])
        var more = ReferralHistory()
        more.referral("r-extra", by: "p001")
        more.order("o-extra", for: "r-extra", total: "5.00", at: "2024-04-01T00:00:00Z")
        try more.insert(into: harness.database)

        let (status, reports) = await harness.run(["--mode", nextMode, "--bulk-wait", "0", "--currency", "USD"])
        #expect(status == .success)
        let p001 = try #require(reports).csv("changes.csv").filter { $0["customer_id"] == "p001" }
        let count = try #require(p001.first { $0["attribute"] == "Okendo Number of Successful Referrals" })
        #expect(count["outcome"] == "in_flight")
        #expect(count["new_value"] == "2")
        #expect((count["error"] ?? "").contains("it carries '1', this newer value is sent after it resolves"))
        #expect(harness.simulator.statistics().bulkJobsSubmitted == 1)
        #expect(harness.simulator.statistics().acceptedUpdates == 0)

        harness.simulator.completeBulkJobs()
        var quick = harness.simulator.configuration
        quick.bulkCompletionDelayMilliseconds = 20
        harness.simulator.update(configuration: quick)
        let (final, finalReports) = await harness.run(["--mode", nextMode, "--currency", "USD"])
        #expect(final == .success)
        let files = try #require(finalReports)
        let resent = try files.csv("changes.csv")
        #expect(Set(resent.map { $0["customer_id"] ?? "" }) == ["p001"])
        #expect(resent.allSatisfy { $0["outcome"] == "synced" })
        #expect(
            harness.simulator.profile(email: "p001@example.com")?.attributes["Okendo Number of Successful Referrals"]
                == "2")
        let mismatches = try Convergence.mismatches(
            truth: try files.csv("attributes.csv"), database: harness.database, simulator: harness.simulator)
        #expect(mismatches.isEmpty, "\(mismatches)")
    }

    /// A batch recorded but never confirmed (the run died between recording it and recording Attentive's 202) is
    /// failed by the next run, whose values are then sent again; a job Attentive does not know fails the same way.
    @Test func unconfirmedBatchAndUnknownJobAreSentAgain() async throws {
        let harness = try await JobHarness { $0.bulkCompletionDelayMilliseconds = 20 }
        try ReferralHistory.participants(0..<4).insert(into: harness.database)
        let connection = try harness.database.connect()
        defer { connection.close() }
        let states = try Self.participants(on: connection)
        let store = try BulkJobStore(connection: connection, runID: 0)
        _ = try store.recordBatch(Array(states[0..<2]), shard: .all)
        let unknown = try store.recordBatch(Array(states[2..<4]), shard: .all)
        try store.markSubmitted(batchID: unknown, jobID: "no-such-job", httpStatus: 202, attempts: 1)
        #expect(try Self.count(harness, "SELECT count(*) FROM referral_sync_pending WHERE state = 'in_flight'") > 0)

        let (status, reports) = await harness.run(["--mode", "bulk", "--currency", "USD"])
        #expect(status == .success)
        let files = try #require(reports)
        #expect(
            try files.text("summary.md").contains(
                "Left in flight by earlier runs: 0 completed (0 records synced, 4 failed), 2 failed as a whole"))
        #expect(try files.csv("changes.csv").allSatisfy { $0["outcome"] == "synced" })
        let failed = try harness.database.query(
            "SELECT error FROM referral_sync_bulk_jobs WHERE status = 'failed' ORDER BY batch_id")
        #expect(failed.count == 2)
        let unconfirmed: String = failed.first?[0] ?? ""
        let unknownJob: String = failed.last?[0] ?? ""
        #expect(unconfirmed.contains("stopped before recording Attentive's answer"))
        #expect(unknownJob.contains("does not know bulk job no-such-job"))
        let mismatches = try Convergence.mismatches(
            truth: try files.csv("attributes.csv"), database: harness.database, simulator: harness.simulator)
        #expect(mismatches.isEmpty, "\(mismatches)")
    }

    @Test func recordsAttentiveRefusesStayPendingWithItsMessageAndNeverReachTheLedger() async throws {
        let harness = try await JobHarness {
            $0.bulkCompletionDelayMilliseconds = 20
            $0.faults.badIdentities = ["p001@example.com"]
        }
        try ReferralHistory.participants(0..<3).insert(into: harness.database)
        let (status, reports) = await harness.run(["--mode", "bulk", "--currency", "USD"])
        #expect(status == .needsAttention)
        let changes = try #require(reports).csv("changes.csv")
        let refused = changes.filter { $0["customer_id"] == "p001" }
        #expect(!refused.isEmpty && refused.allSatisfy { $0["outcome"] == "failed" })
        #expect(refused.allSatisfy { ($0["error"] ?? "").contains("identifier is invalid") }, "\(refused)")
        #expect(changes.filter { $0["customer_id"] != "p001" }.allSatisfy { $0["outcome"] == "synced" })
        #expect(try Self.count(harness, "SELECT count(*) FROM referral_sync_ledger WHERE customer_id = 'p001'") == 0)
        let pending = try harness.database.query(
            "SELECT state, error FROM referral_sync_pending WHERE customer_id = 'p001'")
        #expect(pending.count == refused.count)
        #expect(pending.allSatisfy { $0[0] == "failed" && ($0[1] ?? "").contains("identifier is invalid") })
    }

    @Test func aNULInARecordsErrorIsStoredReadably() async throws {
        let harness = try await JobHarness {
            $0.bulkCompletionDelayMilliseconds = 20
            $0.faults.badIdentities = ["p000@example.com"]
            $0.faults.rejectionMessage = "user\u{0}invalid"
        }
        try ReferralHistory.participants(0..<1).insert(into: harness.database)
        let (status, reports) = await harness.run(["--mode", "bulk", "--currency", "USD"])
        #expect(status == .needsAttention)
        let changes = try #require(reports).csv("changes.csv")
        #expect(!changes.isEmpty)
        #expect(changes.allSatisfy { $0["outcome"] == "failed" && $0["error"] == "user\u{FFFD}invalid" }, "\(changes)")
        let pending = try harness.database.query("SELECT DISTINCT state, error FROM referral_sync_pending")
        #expect(pending.count == 1)
        #expect(pending.first?[0] == "failed" && pending.first?[1] == "user\u{FFFD}invalid")
    }

    /// The participants the attribute query returns, read through the job's own refresh and query.
    static func participants(on connection: PostgresConnection) throws -> [ParticipantState] {
        guard let usd = Currency(code: "USD") else { return [] }
        let parameters = RecomputeParameters(asOf: .now(), currency: usd)
        _ = try ParticipantStateStore.refresh(on: connection, parameters, full: false)
        try connection.run("BEGIN ISOLATION LEVEL REPEATABLE READ")
        defer { try? connection.run("ROLLBACK") }
        let cursor = try AttributeQuery.openCursor(on: connection, parameters)
        var all: [ParticipantState] = []
        while let next = try cursor.next() { all.append(next) }
        return all
    }
}
