import Attentive
import AttentiveSimulator
import Foundation
import TestSupport
import Testing

@testable import ReferralSyncCLI
@testable import ReferralSyncJob

/// `referral-sync drift` against the simulator: values changed behind the job's back are found.
@Suite struct DriftTests {
    static let count = "Okendo Number of Successful Referrals"

    static func syncedReferrer(_ harness: JobHarness) async throws {
        try ExitStatusTests.oneReferrer(harness)
        #expect(await harness.run().0 == .success)
    }

    @Test func noDriftAfterARunIsZeroAndSendsNothing() async throws {
        let harness = try await JobHarness()
        try await Self.syncedReferrer(harness)
        let before = harness.simulator.profiles()
        let (status, reports) = await harness.drift()
        #expect(status == .success)
        let files = try #require(reports)
        #expect(try files.csv("drift.csv").isEmpty)
        #expect(try files.text("summary.md").contains("| Compared with Attentive | 1 |"))
        #expect(harness.simulator.profiles() == before)
        let history = try harness.database.query(
            "SELECT command, exit_status, outcome_counts->>'checked' FROM referral_sync_runs ORDER BY run_id")
        #expect(history.map { $0[0] } == ["run", "drift"])
        #expect(history.last?.int(1) == 0)
        #expect(history.last?[2] == "1")
    }

    @Test func valueChangedInAttentiveBehindTheJobsBackIsDrift() async throws {
        let harness = try await JobHarness()
        try await Self.syncedReferrer(harness)
        let update = AttributeUpdate(
            user: AttentiveUser(email: "ocean@example.com", phone: nil), properties: [Self.count: "99"])
        #expect(await harness.outsideClient().sendCustomAttributes(update).isAccepted)

        let (status, reports) = await harness.drift()
        #expect(status == .needsAttention)
        let rows = try #require(reports).csv("drift.csv")
        #expect(
            rows == [
                [
                    "customer_id": "c1", "attribute": Self.count, "attentive_value": "99", "expected_value": "1",
                    "ledger_value": "1", "kind": "changed_in_attentive",
                ]
            ])
        // A run does not notice: the ledger says Attentive accepted 1.
        #expect(await harness.run().0 == .success)
        #expect(harness.simulator.profile(email: "ocean@example.com")?.attributes[Self.count] == "99")
    }

    @Test func repairMakesTheNextRunSendTheValuesAgain() async throws {
        let harness = try await JobHarness()
        try await Self.syncedReferrer(harness)
        let update = AttributeUpdate(
            user: AttentiveUser(email: "ocean@example.com", phone: nil), properties: [Self.count: "7"])
        #expect(await harness.outsideClient().sendCustomAttributes(update).isAccepted)

        let (status, reports) = await harness.drift(["--repair"])
        #expect(status == .needsAttention)
        #expect(try #require(reports).text("summary.md").contains("| Ledger entries forgotten by --repair | 1 |"))
        #expect(try harness.database.query("SELECT count(*) FROM referral_sync_ledger").first?.int(0) == 0)
        #expect(await harness.run().0 == .success)
        #expect(harness.simulator.profile(email: "ocean@example.com")?.attributes[Self.count] == "1")
        #expect(await harness.drift().0 == .success)
    }

    @Test func valuesLostInAttentiveAreMissing() async throws {
        let harness = try await JobHarness()
        try await Self.syncedReferrer(harness)
        harness.simulator.reset()
        let (status, reports) = await harness.drift()
        #expect(status == .needsAttention)
        let rows = try #require(reports).csv("drift.csv")
        #expect(rows.count == 4)
        #expect(rows.allSatisfy { $0["kind"] == "missing_in_attentive" && $0["attentive_value"] == "" })
    }

    @Test func truthChangedSinceTheRunIsPending() async throws {
        let harness = try await JobHarness()
        try await Self.syncedReferrer(harness)
        var more = ReferralHistory()
        more.referral("r2", by: "c1")
        more.order("o2", for: "r2", total: "25.00", at: "2024-02-15T00:00:00Z")
        try more.insert(into: harness.database)
        let (status, reports) = await harness.drift()
        #expect(status == .needsAttention)
        let rows = try #require(reports).csv("drift.csv")
        #expect(Set(rows.map { $0["attribute"] ?? "" }) == [Self.count, "Okendo Total Successful Referral Revenue"])
        #expect(rows.allSatisfy { $0["kind"] == "pending" })
        #expect(await harness.run().0 == .success)
        #expect(await harness.drift().0 == .success)
    }

    @Test func sampleChecksNParticipantsDeterministically() async throws {
        let harness = try await JobHarness()
        try harness.insertParticipants(40)
        #expect(await harness.run().0 == .success)
        harness.simulator.reset()
        func sampled(_ arguments: [String]) async throws -> Set<String> {
            let before = harness.simulator.statistics().requests
            let (status, reports) = await harness.drift(arguments)
            #expect(status == .needsAttention)
            #expect(harness.simulator.statistics().requests - before == 5)
            return Set(try #require(reports).csv("drift.csv").compactMap { $0["customer_id"] })
        }
        let first = try await sampled(["--sample", "5", "--as-of", "2026-01-01"])
        let again = try await sampled(["--sample", "5", "--as-of", "2026-01-01"])
        let nextDay = try await sampled(["--sample", "5", "--as-of", "2026-01-02"])
        #expect(first.count == 5)
        #expect(first == again)
        #expect(nextDay.count == 5)
        #expect(nextDay != first)
    }

    @Test func driftReportIsInCustomerOrderWhateverOrderTheAnswersComeIn() async throws {
        let harness = try await JobHarness()
        try harness.insertParticipants(30)
        #expect(await harness.run().0 == .success)
        harness.simulator.reset()
        var jittery = harness.simulator.configuration
        jittery.latencyJitterMilliseconds = 40
        harness.simulator.update(configuration: jittery)
        let (status, reports) = await harness.drift(["--concurrency", "8"])
        #expect(status == .needsAttention)
        let customers = try #require(reports).csv("drift.csv").compactMap { $0["customer_id"] }
        #expect(customers.count == 120)
        #expect(customers == customers.sorted())
    }

    @Test func participantWithoutIdentityIsListedUnchecked() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        history.customer(.init("nobody", email: "not-an-email"))
        try history.insert(into: harness.database)
        let (status, reports) = await harness.drift(["--currency", "USD"])
        #expect(status == .success)
        let unchecked = try #require(reports).csv("unchecked.csv")
        #expect(unchecked.count == 1)
        #expect(unchecked.first?["customer_id"] == "nobody")
        #expect(unchecked.first?["reason"]?.contains("no usable identity") == true)
    }

    @Test func driftWithAForbiddenKeyIsPermissionDeniedAndUnreachableAttentiveIsUnavailable() async throws {
        let harness = try await JobHarness()
        try await Self.syncedReferrer(harness)
        var forbidden = harness.simulator.configuration
        forbidden.forbiddenKeys = [harness.apiKey]
        harness.simulator.update(configuration: forbidden)
        #expect(try await harness.result(drift: DriftOptions()).status == .permissionDenied)
        // Port 1 has no listener (a stopped simulator's port can be reused by another test's simulator).
        let unreachable = ["ATTENTIVE_BASE_URL": "http://127.0.0.1:1"]
        #expect(try await harness.result(environment: unreachable, drift: DriftOptions()).status == .unavailable)
    }

    @Test func driftHasItsOwnHelp() async {
        final class Captured: @unchecked Sendable {
            let lock = NSLock()
            var text = ""
        }
        let captured = Captured()
        let status = await ReferralSyncCommand.main(
            arguments: ["drift", "--help"], environment: [:],
            output: { line in captured.lock.withLock { captured.text += line } })
        #expect(status == .success)
        let help = captured.lock.withLock { captured.text }
        #expect(help.hasPrefix("usage: referral-sync drift [options]"))
        #expect(help.contains("--sample VALUE"))
        #expect(help.contains("[env: REFERRAL_SYNC_DRIFT_SAMPLE]"))
        #expect(help.contains("--metrics-file VALUE"))
        #expect(!help.contains("--dry-run"))
    }

    @Test func badSampleIsAUsageError() async throws {
        let harness = try await JobHarness()
        #expect(await harness.drift(["--sample", "none"]).0 == .usage)
        #expect(await harness.drift(environment: ["REFERRAL_SYNC_DRIFT_SAMPLE": "0"]).0 == .configuration)
    }
}
