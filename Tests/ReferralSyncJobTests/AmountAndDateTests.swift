import AttentiveSimulator
import Foundation
import TestSupport
import Testing

@testable import ReferralSyncCLI
@testable import ReferralSyncJob

/// Money and time at their edges: enormous, zero, odd-decimal and not-a-number totals; the `--as-of` boundary at
/// midnight; rejections dated before the order; several orders per referral. Each on a real database.
@Suite struct AmountAndDateTests {
    @Test func enormousTotalsAreSummedExactlyAndRoundedOnceHalfToEven() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        history.customer(.init("big", email: "big@example.com"))
        // Each rounds to ….00 on its own (half to even); their exact sum is ….01.
        history.referral("r1", by: "big")
        history.referral("r2", by: "big")
        history.order("o1", for: "r1", total: "500000000000000.005")
        history.order("o2", for: "r2", total: "500000000000000.005")
        for (id, total) in [("down", "1234567890123.445"), ("up", "1234567890123.455")] {
            history.customer(.init(id, email: "\(id)@example.com"))
            history.referral("r-\(id)", by: id)
            history.order("o-\(id)", for: "r-\(id)", total: total)
        }
        try history.insert(into: harness.database)

        let (status, reports) = await harness.run()
        #expect(status == .success)
        let rows = try #require(reports).csv("attributes.csv")
        #expect(JobHarness.row(rows, "big")?["total_successful_referral_revenue"] == "1000000000000000.01")
        #expect(JobHarness.row(rows, "down")?["total_successful_referral_revenue"] == "1234567890123.44")
        #expect(JobHarness.row(rows, "up")?["total_successful_referral_revenue"] == "1234567890123.46")
        // Attentive gets the same exact string.
        #expect(
            harness.simulator.profile(email: "big@example.com")?.attributes["Okendo Total Successful Referral Revenue"]
                == "1000000000000000.01")
    }

    @Test func zeroTotalsCountAsSuccessfulReferralsWorthNothing() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        history.customer(.init("zero", email: "zero@example.com"))
        history.referral("r1", by: "zero")
        history.referral("r2", by: "zero")
        history.order("o1", for: "r1", total: "0", at: "2024-03-01T00:00:00Z")
        history.order("o2", for: "r2", total: "0.000", at: "2024-03-02T00:00:00Z")
        history.customer(.init("none", email: "none@example.com"))
        try history.insert(into: harness.database)

        let (status, reports) = await harness.run()
        #expect(status == .success)
        let rows = try #require(reports).csv("attributes.csv")
        let zero = try #require(JobHarness.row(rows, "zero"))
        #expect(zero["successful_referrals"] == "2")
        #expect(zero["total_successful_referral_revenue"] == "0.00")
        #expect(zero["latest_successful_referral_at"] == "2024-03-02T00:00:00.000Z")
        let none = try #require(JobHarness.row(rows, "none"))
        #expect(none["successful_referrals"] == "0")
        #expect(none["total_successful_referral_revenue"] == "0.00")
        #expect(none["latest_successful_referral_at"] == "")
    }

    @Test func otherCurrenciesRoundHalfToEvenToTheirOwnMinorUnits() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        let orders = [("j1", "2.5", "JPY"), ("j2", "3.5", "JPY"), ("k1", "1.2345", "KWD"), ("k2", "1.2355", "KWD")]
        for (id, total, currency) in orders {
            history.customer(.init(id, email: "\(id)@example.com"))
            history.referral("r-\(id)", by: id)
            history.order("o-\(id)", for: "r-\(id)", total: total, currency: currency)
        }
        try history.insert(into: harness.database)

        let (yenStatus, yen) = await harness.run(["--currency", "JPY", "--dry-run"])
        #expect(yenStatus == .success)
        let yenFiles = try #require(yen)
        let yenRows = try yenFiles.csv("attributes.csv")
        #expect(JobHarness.row(yenRows, "j1")?["total_successful_referral_revenue"] == "2")
        #expect(JobHarness.row(yenRows, "j2")?["total_successful_referral_revenue"] == "4")
        #expect(JobHarness.row(yenRows, "k1")?["total_successful_referral_revenue"] == "0")
        let mismatched = try yenFiles.csv("rejected_rows.csv").filter { $0["reason"] == "currency_mismatch" }
        #expect(mismatched.map { $0["key"] } == ["o-k1", "o-k2"])
        #expect(mismatched.first?["detail"] == "currency KWD is not the shop currency JPY")

        let (dinarStatus, dinar) = await harness.run(["--currency", "KWD", "--dry-run"])
        #expect(dinarStatus == .success)
        let dinarRows = try #require(dinar).csv("attributes.csv")
        #expect(JobHarness.row(dinarRows, "k1")?["total_successful_referral_revenue"] == "1.234")
        #expect(JobHarness.row(dinarRows, "k2")?["total_successful_referral_revenue"] == "1.236")
        #expect(JobHarness.row(dinarRows, "j1")?["currency"] == "KWD")
    }

    @Test func notANumberTotalsAndEndlessDatesAreRejected() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        history.customer(.init("c1", email: "c1@example.com"))
        for id in ["nan", "inf", "minus-inf", "early", "good"] { history.referral(id, by: "c1") }
        history.order("o-nan", for: "nan", total: "NaN")
        history.order("o-inf", for: "inf", total: "Infinity")
        history.order("o-minus-inf", for: "minus-inf", total: "-Infinity")
        history.order("o-early", for: "early", total: "5.00", at: "-infinity")
        history.order("o-good", for: "good", total: "5.00")
        try history.insert(into: harness.database)

        let (status, reports) = await harness.run()
        #expect(status == .success)
        let files = try #require(reports)
        let row = try #require(JobHarness.row(try files.csv("attributes.csv"), "c1"))
        #expect(row["successful_referrals"] == "1")
        #expect(row["total_successful_referral_revenue"] == "5.00")
        #expect(row["latest_successful_referral_at"] == "2024-03-01T00:00:00.000Z")
        let reasons = Dictionary(
            uniqueKeysWithValues: try files.csv("rejected_rows.csv").map { ($0["key"] ?? "", $0["reason"] ?? "") })
        #expect(
            reasons == [
                "o-nan": "total_not_finite", "o-inf": "total_not_finite", "o-minus-inf": "total_not_finite",
                "o-early": "redeemed_at_not_finite",
            ])
    }

    @Test func midnightAsOfCountsWhatHappenedAtOrBeforeIt() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        for id in ["m1", "m2", "m3", "m4", "m5", "m6"] { history.customer(.init(id, email: "\(id)@example.com")) }
        history.referral("r1", by: "m1")
        history.order("o1", for: "r1", total: "1", at: "2024-03-01T00:00:00Z")
        history.referral("r2", by: "m2")
        history.order("o2", for: "r2", total: "1", at: "2024-03-01T00:00:00.000001Z")
        history.referral("r3", by: "m3", at: "2024-03-01T00:00:00Z")
        history.order("o3", for: "r3", total: "1", at: "2024-03-01T00:00:00Z")
        // Midnight in a zone east of UTC is still the day before in UTC.
        history.referral("r4", by: "m4")
        history.order("o4", for: "r4", total: "1", at: "2024-03-01T00:00:00+01:00")
        history.referral("r5", by: "m5")
        history.order("o5", for: "r5", total: "1", at: "2024-02-10T00:00:00Z")
        history.rejection(of: "r5", at: "2024-03-01T00:00:00Z")
        history.referral("r6", by: "m6")
        history.order("o6", for: "r6", total: "1", at: "2024-02-10T00:00:00Z")
        history.rejection(of: "r6", at: "2024-03-01T00:00:00.000001Z")
        try history.insert(into: harness.database)

        let (status, reports) = await harness.run(["--as-of", "2024-03-01", "--dry-run"])
        #expect(status == .success)
        let files = try #require(reports)
        let rows = try files.csv("attributes.csv")
        let counts = Dictionary(
            uniqueKeysWithValues: rows.map { ($0["customer_id"] ?? "", $0["successful_referrals"] ?? "") })
        #expect(counts == ["m1": "1", "m2": "0", "m3": "1", "m4": "1", "m5": "0", "m6": "1"])
        #expect(JobHarness.row(rows, "m1")?["latest_successful_referral_at"] == "2024-03-01T00:00:00.000Z")
        #expect(JobHarness.row(rows, "m4")?["latest_successful_referral_at"] == "2024-02-29T23:00:00.000Z")
        let rejected = Dictionary(
            uniqueKeysWithValues: try files.csv("rejected_rows.csv").map {
                (($0["table"] ?? "") + "/" + ($0["key"] ?? ""), $0["reason"] ?? "")
            })
        #expect(
            rejected == [
                "referral_orders/o2": "redeemed_after_as_of", "referral_orders/o5": "referral_rejected",
                "referral_rejections/r6": "rejected_after_as_of",
            ])

        // The same instant written in another zone gives the same report.
        let (_, again) = await harness.run(["--as-of", "2024-02-29T19:00:00-05:00", "--dry-run"])
        #expect(try #require(again).csv("attributes.csv") == rows)
    }

    @Test func aRejectionDatedBeforeTheOrderStillRejectsTheReferral() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        history.customer(.init("c1", email: "c1@example.com"))
        history.referral("r1", by: "c1", at: "2024-02-01T00:00:00Z")
        history.rejection(of: "r1", at: "2024-02-10T00:00:00Z")
        history.order("o1", for: "r1", total: "30.00", at: "2024-03-01T00:00:00Z")
        try history.insert(into: harness.database)

        let (status, reports) = await harness.run()
        #expect(status == .success)
        let files = try #require(reports)
        #expect(JobHarness.row(try files.csv("attributes.csv"), "c1")?["successful_referrals"] == "0")
        let rejected = try #require(try files.csv("rejected_rows.csv").first)
        #expect(rejected["key"] == "o1")
        #expect(rejected["reason"] == "referral_rejected")
        #expect(rejected["detail"] == "referral r1 was rejected at 2024-02-10T00:00:00.000Z")
    }

    @Test func ordersOfRejectedReferralsAndLaterOrdersAreListed() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        history.customer(.init("c1", email: "c1@example.com"))
        history.referral("rejected", by: "c1")
        history.order("x1", for: "rejected", total: "10", at: "2024-03-01T00:00:00Z")
        history.order("x2", for: "rejected", total: "10", at: "2024-03-02T00:00:00Z")
        history.rejection(of: "rejected", at: "2024-03-05T00:00:00Z")
        history.referral("kept", by: "c1")
        history.order("k3", for: "kept", total: "30", at: "2024-03-03T00:00:00Z")
        history.order("k1", for: "kept", total: "10", at: "2024-03-01T00:00:00Z")
        history.order("k2", for: "kept", total: "20", at: "2024-03-02T00:00:00Z")
        try history.insert(into: harness.database)

        let (status, reports) = await harness.run()
        #expect(status == .success)
        let files = try #require(reports)
        let row = try #require(JobHarness.row(try files.csv("attributes.csv"), "c1"))
        #expect(row["successful_referrals"] == "1")
        #expect(row["total_successful_referral_revenue"] == "10.00")
        let reasons = Dictionary(
            uniqueKeysWithValues: try files.csv("rejected_rows.csv").map { ($0["key"] ?? "", $0["reason"] ?? "") })
        #expect(
            reasons == [
                "x1": "referral_rejected", "x2": "referral_rejected", "k2": "not_first_order_of_referral",
                "k3": "not_first_order_of_referral",
            ])
    }
}
