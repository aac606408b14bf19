import AttentiveSimulator
import TestSupport
import Testing

@testable import ReferralSyncCLI
@testable import ReferralSyncJob

/// One test per definition in the README's "Attribute definitions", each on a real database.
@Suite struct AttributeDefinitionTests {
    @Test func participantsAreOptedInCustomersAndReferrers() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        history.customer(.init("opted", email: "opted@example.com"))
        history.customer(.init("referrer", email: "referrer@example.com", optedInAt: nil))
        history.customer(.init("bystander", email: "bystander@example.com", optedInAt: nil))
        history.referral("r1", by: "referrer")
        try history.insert(into: harness.database)

        let (status, reports) = await harness.run(["--currency", "USD"])
        #expect(status == .success)
        let rows = try #require(reports).csv("attributes.csv")
        #expect(rows.map { $0["customer_id"] } == ["opted", "referrer"])
    }

    @Test func successNeedsARedeemingOrderAndNoRejection() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        history.customer(.init("c1", email: "c1@example.com"))
        history.referral("redeemed", by: "c1")
        history.referral("unredeemed", by: "c1")
        history.referral("rejected", by: "c1")
        history.order("o1", for: "redeemed", total: "10.00")
        history.order("o2", for: "rejected", total: "99.00")
        history.rejection(of: "rejected")
        try history.insert(into: harness.database)

        let (_, reports) = await harness.run()
        let row = try #require(try JobHarness.row(reports, "attributes.csv", "c1"))
        #expect(row["successful_referrals"] == "1")
        #expect(row["total_successful_referral_revenue"] == "10.00")
    }

    @Test func firstOrderOfAReferralIsTheQualifyingOrder() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        history.customer(.init("c1", email: "c1@example.com"))
        history.referral("r1", by: "c1")
        history.order("o-late", for: "r1", total: "80.00", at: "2024-03-05T00:00:00Z")
        history.order("o-b", for: "r1", total: "30.00", at: "2024-03-01T00:00:00Z")
        history.order("o-a", for: "r1", total: "20.00", at: "2024-03-01T00:00:00Z")
        try history.insert(into: harness.database)

        let (_, reports) = await harness.run()
        let files = try #require(reports)
        let row = try #require(JobHarness.row(try files.csv("attributes.csv"), "c1"))
        #expect(row["successful_referrals"] == "1")
        // Same redeemed_at: order_id breaks the tie, so o-a (20.00) qualifies.
        #expect(row["total_successful_referral_revenue"] == "20.00")
        #expect(row["latest_successful_referral_at"] == "2024-03-01T00:00:00.000Z")
        let rejected = try files.csv("rejected_rows.csv").filter { $0["table"] == "referral_orders" }
        #expect(Set(rejected.map { $0["key"] ?? "" }) == ["o-b", "o-late"])
        #expect(rejected.allSatisfy { $0["reason"] == "not_first_order_of_referral" })
    }

    @Test func latestDateIsTheLatestQualifyingRedemptionInUTCMilliseconds() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        history.customer(.init("c1", email: "c1@example.com"))
        history.referral("r1", by: "c1")
        history.referral("r2", by: "c1")
        history.order("o1", for: "r1", total: "1", at: "2024-11-08T08:10:36.989+02:00")
        history.order("o2", for: "r2", total: "1", at: "2024-11-01T00:00:00Z")
        try history.insert(into: harness.database)

        let (_, reports) = await harness.run()
        let row = try #require(try JobHarness.row(reports, "attributes.csv", "c1"))
        #expect(row["latest_successful_referral_at"] == "2024-11-08T06:10:36.989Z")
        #expect(row["successful_referrals"] == "2")
    }

    @Test func revenueIsExactWithTheCurrencysMinorUnits() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        history.customer(.init("c1", email: "c1@example.com"))
        history.referral("r1", by: "c1")
        history.referral("r2", by: "c1")
        history.order("o1", for: "r1", total: "0.1")
        history.order("o2", for: "r2", total: "0.2")
        try history.insert(into: harness.database)
        let (_, usd) = await harness.run()
        // 0.1 + 0.2 is exactly 0.30: no binary floating point anywhere.
        #expect(try JobHarness.row(usd, "attributes.csv", "c1")?["total_successful_referral_revenue"] == "0.30")

        let japan = try await JobHarness()
        var yen = ReferralHistory()
        yen.customer(.init("c1", email: "c1@example.com"))
        yen.referral("r1", by: "c1")
        yen.order("o1", for: "r1", total: "4200", currency: "JPY")
        try yen.insert(into: japan.database)
        let (_, jpy) = await japan.run()
        let row = try #require(try JobHarness.row(jpy, "attributes.csv", "c1"))
        #expect(row["total_successful_referral_revenue"] == "4200")
        #expect(row["currency"] == "JPY")
    }

    @Test func revenueIsRoundedOnceHalfToEven() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        for (index, total) in ["45.125", "45.135", "0.005"].enumerated() {
            history.customer(.init("c\(index)", email: "c\(index)@example.com"))
            history.referral("r\(index)", by: "c\(index)")
            history.order("o\(index)", for: "r\(index)", total: total)
        }
        // Two halves that sum to a whole cent: rounding each would give 0.02, rounding the sum gives 0.01.
        history.customer(.init("sum", email: "sum@example.com"))
        history.referral("rs1", by: "sum")
        history.referral("rs2", by: "sum")
        history.order("os1", for: "rs1", total: "0.005")
        history.order("os2", for: "rs2", total: "0.005")
        try history.insert(into: harness.database)

        let (_, reports) = await harness.run()
        let rows = try #require(reports).csv("attributes.csv")
        #expect(JobHarness.row(rows, "c0")?["total_successful_referral_revenue"] == "45.12")
        #expect(JobHarness.row(rows, "c1")?["total_successful_referral_revenue"] == "45.14")
        #expect(JobHarness.row(rows, "c2")?["total_successful_referral_revenue"] == "0.00")
        #expect(JobHarness.row(rows, "sum")?["total_successful_referral_revenue"] == "0.01")
    }

    @Test func shareableLinkIsTheCustomersLink() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        history.customer(.init("c1", email: "c1@example.com", link: "https://test.oken.do/z7itbfwu"))
        try history.insert(into: harness.database)
        let (_, reports) = await harness.run(["--currency", "USD"])
        #expect(
            try JobHarness.row(reports, "attributes.csv", "c1")?["shareable_link"] == "https://test.oken.do/z7itbfwu")
        #expect(
            harness.simulator.profile(email: "c1@example.com")?.attributes["Okendo Referral Shareable Link"]
                == "https://test.oken.do/z7itbfwu")
    }

    @Test func asOfCountsOnlyRowsAtOrBeforeIt() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        history.customer(.init("c1", email: "c1@example.com"))
        history.customer(.init("late-opt-in", email: "late@example.com", optedInAt: "2024-06-01T00:00:00Z"))
        history.referral("r1", by: "c1", at: "2024-02-01T00:00:00Z")
        history.referral("r2", by: "c1", at: "2024-02-01T00:00:00Z")
        history.order("o1", for: "r1", total: "10", at: "2024-03-01T00:00:00Z")
        history.order("o2", for: "r2", total: "10", at: "2024-05-01T00:00:00Z")
        try history.insert(into: harness.database)

        let (_, reports) = await harness.run(["--as-of", "2024-03-01T00:00:00Z", "--dry-run"])
        let files = try #require(reports)
        let rows = try files.csv("attributes.csv")
        #expect(rows.map { $0["customer_id"] } == ["c1"])
        #expect(JobHarness.row(rows, "c1")?["successful_referrals"] == "1")
        let rejected = try files.csv("rejected_rows.csv")
        #expect(rejected.contains { $0["key"] == "o2" && $0["reason"] == "redeemed_after_as_of" })
    }
}
