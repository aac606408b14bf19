import AttentiveSimulator
import Foundation
import ReferralModel
import ReferralSyncCLI
import ReferralSyncJob
import Reports
import TestSupport
import Testing

/// README "Refusals": a value or an event Attentive refuses for its content (400) is parked, listed in
/// `refused.csv`, and not sent again while unchanged, unless `--retry-refused`.
@Suite("Refusals: parked, not retried for ever")
struct RefusalTests {
    static let email = "ocean@example.com"

    /// A harness whose simulator refuses `ocean@example.com` with 400, and one referrer with that email.
    static func refusingHarness() async throws -> JobHarness {
        let harness = try await JobHarness { $0.faults.badIdentities = [Self.email] }
        try SyncBehaviourTests.oneReferrer(harness, email: Self.email)
        return harness
    }

    @Test func aValueRefusedWith400IsListedCountedAndNotSentAgain() async throws {
        let harness = try await Self.refusingHarness()
        let metrics = harness.reportsDirectory + "/metrics.prom"
        let (status, first) = await harness.run(["--metrics-file", metrics])
        #expect(status == .needsAttention)
        let files = try #require(first)
        let changes = try files.csv("changes.csv")
        #expect(changes.count == 4)
        #expect(changes.allSatisfy { $0["outcome"] == "refused" && $0["http_status"] == "400" }, "\(changes)")
        let refused = try files.csv("refused.csv")
        #expect(refused.count == 4)
        #expect(
            refused.allSatisfy { $0["customer_id"] == "c1" && $0["http_status"] == "400" && $0["email"] == Self.email })
        let firstRefusedAt = Set(refused.map { $0["first_refused_at"] ?? "" })
        #expect(firstRefusedAt.count == 1 && !(firstRefusedAt.first ?? "").isEmpty)
        #expect(try files.text("summary.md").contains("refused.csv): 4"))
        let text = try String(contentsOfFile: metrics, encoding: .utf8)
        #expect(text.contains("referral_sync_refused_rows{command=\"run\"} 4"), "\(text)")
        #expect(text.contains("referral_sync_pending_rows{command=\"run\"} 0"), "\(text)")
        let requests = harness.simulator.statistics().requests

        let (again, second) = await harness.run(["--metrics-file", metrics])
        #expect(again == .success)
        #expect(harness.simulator.statistics().requests == requests)
        let listed = try #require(second).csv("refused.csv")
        #expect(listed.count == 4)
        #expect(Set(listed.map { $0["first_refused_at"] ?? "" }) == firstRefusedAt)
        #expect(try #require(second).csv("changes.csv").isEmpty)
        #expect(
            try String(contentsOfFile: metrics, encoding: .utf8).contains(
                "referral_sync_pending_rows{command=\"run\"} 0"))
    }

    @Test func aChangedValueIsSentAgainByTheNextRun() async throws {
        let harness = try await Self.refusingHarness()
        _ = await harness.run()
        let requests = harness.simulator.statistics().requests
        var more = ReferralHistory()
        more.referral("r2", by: "c1")
        more.order("o2", for: "r2", total: "25.00", at: "2024-11-08T06:10:36.989Z")
        try more.insert(into: harness.database)

        let (_, reports) = await harness.run()
        #expect(harness.simulator.statistics().requests == requests + 1)
        let changes = try #require(reports).csv("changes.csv")
        #expect(
            Set(changes.map { $0["attribute"] ?? "" }) == [
                "Okendo Number of Successful Referrals", "Okendo Total Successful Referral Revenue",
            ], "\(changes)")
    }

    @Test func retryRefusedSendsEveryRefusedValueAgain() async throws {
        let harness = try await Self.refusingHarness()
        _ = await harness.run()
        harness.simulator.update(configuration: SimulatorConfiguration(apiKey: harness.apiKey))
        let (plain, _) = await harness.run()
        #expect(plain == .success)
        #expect(harness.simulator.profile(email: Self.email) == nil)

        let (status, reports) = await harness.run(["--retry-refused"])
        #expect(status == .success)
        let files = try #require(reports)
        #expect(try files.csv("changes.csv").filter { $0["outcome"] == "synced" }.count == 4)
        #expect(try files.csv("refused.csv").isEmpty)
        #expect(harness.simulator.profile(email: Self.email)?.attributes.count == 4)
    }

    @Test func aCorrectedEmailIsNewContentAndIsSent() async throws {
        let harness = try await Self.refusingHarness()
        _ = await harness.run()
        try harness.database.run("UPDATE customers SET email = 'ocean.fixed@example.com' WHERE customer_id = 'c1'")
        let (status, reports) = await harness.run()
        #expect(status == .success)
        #expect(try #require(reports).csv("refused.csv").isEmpty)
        #expect(harness.simulator.profile(email: "ocean.fixed@example.com")?.attributes.count == 4)
    }

    @Test func driftReportsARefusedValueAsItsOwnKind() async throws {
        let harness = try await Self.refusingHarness()
        _ = await harness.run()
        let (_, reports) = await harness.drift()
        let drift = try #require(reports).csv("drift.csv")
        #expect(!drift.isEmpty)
        #expect(drift.allSatisfy { $0["kind"] == "refused" }, "\(drift)")
    }

    @Test func anEventRefusedWith400IsNotSentAgain() async throws {
        let events = try await EventsTests.Events { $0.faults.badIdentities = ["ann@example.com"] }
        let (status, first) = await events.events(["--as-of", EventsTests.asOf])
        #expect(status == .needsAttention)
        let refused = try #require(first).csv("events.csv").filter { $0["outcome"] == "refused" }
        #expect(!refused.isEmpty)
        #expect(refused.allSatisfy { $0["http_status"] == "400" })
        let listed = try #require(first).csv("refused.csv")
        #expect(Set(listed.map { $0["event_id"] ?? "" }) == Set(refused.map { $0["event_id"] ?? "" }))
        #expect(listed.allSatisfy { !($0["first_refused_at"] ?? "").isEmpty })
        #expect(try #require(first).text("summary.md").contains("refused.csv): \(refused.count)"))
        let requests = events.harness.simulator.statistics().requests

        let (again, second) = await events.events(["--as-of", EventsTests.asOf])
        #expect(again == .success)
        #expect(events.harness.simulator.statistics().requests == requests)
        #expect(try #require(second).csv("refused.csv").count == refused.count)

        events.harness.simulator.update(configuration: SimulatorConfiguration(apiKey: events.harness.apiKey))
        let (retried, third) = await events.events(["--as-of", EventsTests.asOf, "--retry-refused"])
        #expect(retried == .success)
        #expect(try #require(third).csv("events.csv").filter { $0["outcome"] == "delivered" }.count == refused.count)
        #expect(try #require(third).csv("refused.csv").isEmpty)
    }
}
