import Foundation
import TestSupport
import Testing

@testable import ReferralSyncJob

/// `referral-sync revenue` on hand-checked data (README "Finance"): every figure below was worked out by hand
/// from the rows each test inserts.
@Suite struct RevenueReportTests {
    static let periodColumns = [
        "period", "referrals_created", "successful_referrals", "referrers", "revenue", "discounts",
        "average_order_value", "reversed_referrals", "reversed_revenue", "net_revenue",
    ]

    /// Two referrers over three months: a contiguous month per row (March has nothing), totals, channels and
    /// referrers.
    static func threeMonths() -> RevenueRows {
        var rows = RevenueRows()
        rows.referral("r1", by: "a", at: "2025-01-05T00:00:00Z")
        rows.order("o1", for: "r1", total: "100.00", discount: "10.00", at: "2025-01-10T12:00:00Z")
        rows.referral("r2", by: "a", at: "2025-01-20T00:00:00Z")
        rows.order("o2", for: "r2", total: "50.50", discount: "5.00", at: "2025-02-03T08:00:00Z")
        rows.referral("r3", by: "b", channel: "shareable_link", at: "2025-02-01T00:00:00Z")
        rows.order("o3", for: "r3", total: "20.00", discount: "2.00", at: "2025-02-14T00:00:00Z")
        rows.referral("r4", by: "b", at: "2025-03-01T00:00:00Z")
        return rows
    }

    @Test func monthsAreContiguousAndAddUpToTheTotals() async throws {
        let harness = try await JobHarness()
        try Self.threeMonths().insert(into: harness.database)
        let outcome = await harness.revenue(["--as-of", "2025-03-31T00:00:00Z", "--currency", "USD"])
        #expect(outcome.status == .success, "\(outcome.message)")
        let periods = try outcome.periods()
        #expect(
            periods.map { figures($0, Self.periodColumns) } == [
                ["2025-01-01", "2", "1", "1", "100.00", "10.00", "100.00", "0", "0.00", "100.00"],
                ["2025-02-01", "1", "2", "2", "70.50", "7.00", "35.25", "0", "0.00", "70.50"],
                ["2025-03-01", "1", "0", "0", "0.00", "0.00", "0.00", "0", "0.00", "0.00"],
            ])
        #expect(periods.first?["period_start"] == "2025-01-01T00:00:00+00:00")
        #expect(periods.first?["period_end"] == "2025-02-01T00:00:00+00:00")
        #expect(periods.allSatisfy { $0["currency"] == "USD" })
        #expect(periods.map { $0["label"] } == ["2025-01", "2025-02", "2025-03"])
        let markdown = try outcome.markdown()
        // 170.50 / 3 = 56.8333…, rounded once.
        #expect(
            markdown.contains(
                "| **Total** | **4** | **3** | **2** | **170.50** | **17.00** | **56.83** | **0** | **0.00** | **170.50** |"
            ))
        #expect(!markdown.contains("Rounding difference"))
        #expect(markdown.contains("| Successful referrals, whole history | 3 | 3 | equal |"))
        #expect(markdown.contains("| Revenue, whole history, each referrer rounded once | 170.50 | 170.50 | equal |"))

        let reports = try requireReports(outcome.reports)
        let channels = try reports.csv("channels.csv")
        let channelColumns = [
            "channel", "referrals_created", "successful_referrals", "converted_referrals", "conversion_percent",
            "revenue", "average_order_value",
        ]
        #expect(
            channels.map { figures($0, channelColumns) } == [
                ["email", "3", "2", "2", "66.7", "150.50", "75.25"],
                ["shareable_link", "1", "1", "1", "100.0", "20.00", "20.00"],
            ])
        let referrers = try reports.csv("referrers.csv")
        #expect(
            referrers.map { figures($0, RevenueFiles.referrersHeader) } == [
                [
                    "a", "a@example.com", "2", "150.50", "15.00", "2025-01-10T12:00:00.000+00:00",
                    "2025-02-03T08:00:00.000+00:00",
                ],
                [
                    "b", "b@example.com", "1", "20.00", "2.00", "2025-02-14T00:00:00.000+00:00",
                    "2025-02-14T00:00:00.000+00:00",
                ],
            ])
    }

    @Test func fromAndToTakeMonthsAndQuarters() async throws {
        let harness = try await JobHarness()
        try Self.threeMonths().insert(into: harness.database)
        let outcome = await harness.revenue([
            "--as-of", "2025-03-31T00:00:00Z", "--currency", "USD", "--from", "2025-02", "--to", "2025-Q1",
        ])
        #expect(outcome.status == .success, "\(outcome.message)")
        #expect(try outcome.periods().map { $0["period"] } == ["2025-02-01", "2025-03-01"])
        #expect(try outcome.markdown().contains("| **Total** | **2** | **2** | **2** | **70.50** |"))
        // The reconciliation is over the whole history, whatever the range.
        #expect(try outcome.markdown().contains("| Successful referrals, whole history | 3 | 3 | equal |"))
    }

    /// A referral created at `-infinity` counts (README "Attribute definitions": only an order's `redeemed_at` must be
    /// finite), but no period can start there: the range starts at the first finite date, and the referral is in the
    /// whole-history reconciliation. (It once made the range start at `-infinity`, which is no timestamp a period can
    /// be built from: exit 65.)
    @Test func aReferralCreatedAtMinusInfinityStartsNoPeriod() async throws {
        let harness = try await JobHarness()
        var rows = Self.threeMonths()
        rows.referral("r0", by: "a", at: "-infinity")
        rows.order("o0", for: "r0", total: "5.00", at: "2025-01-15T00:00:00Z")
        try rows.insert(into: harness.database)
        let outcome = await harness.revenue(["--as-of", "2025-03-31T00:00:00Z", "--currency", "USD"])
        #expect(outcome.status == .success, "\(outcome.message)")
        let periods = try outcome.periods()
        #expect(periods.map { $0["period"] } == ["2025-01-01", "2025-02-01", "2025-03-01"])
        #expect(figures(periods.first, ["successful_referrals", "revenue"]) == ["2", "105.00"])
        #expect(try outcome.markdown().contains("| Successful referrals, whole history | 4 | 4 | equal |"))
    }

    @Test func aDayStartsWhereTheTimeZoneSays() async throws {
        let harness = try await JobHarness()
        var rows = RevenueRows()
        rows.referral("r1", by: "a", at: "2025-01-02T00:00:00Z")
        rows.order("o1", for: "r1", total: "10.00", at: "2025-01-31T23:30:00Z")
        try rows.insert(into: harness.database)
        let common = ["--as-of", "2025-02-28T00:00:00Z", "--currency", "USD"]

        let newYork = await harness.revenue(common + ["--timezone", "America/New_York"])
        #expect(newYork.status == .success, "\(newYork.message)")
        #expect(
            try newYork.periods().map { [$0["period"], $0["successful_referrals"]] } == [
                ["2025-01-01", "1"], ["2025-02-01", "0"],
            ])
        #expect(try newYork.periods().first?["period_start"] == "2025-01-01T00:00:00-05:00")

        let berlin = await harness.revenue(common, environment: ["REFERRAL_SYNC_TIMEZONE": "Europe/Berlin"])
        #expect(berlin.status == .success, "\(berlin.message)")
        #expect(
            try berlin.periods().map { [$0["period"], $0["successful_referrals"]] } == [
                ["2025-01-01", "0"], ["2025-02-01", "1"],
            ])

        let days = await harness.revenue(
            common + ["--timezone", "Europe/Berlin", "--by", "day", "--from", "2025-01-31", "--to", "2025-02-01"])
        #expect(
            try days.periods().map { [$0["period"], $0["period_start"], $0["successful_referrals"]] } == [
                ["2025-01-31", "2025-01-31T00:00:00+01:00", "0"], ["2025-02-01", "2025-02-01T00:00:00+01:00", "1"],
            ])
    }

    @Test func aDaylightSavingDayIsOnePeriodOf23Hours() async throws {
        let harness = try await JobHarness()
        var rows = RevenueRows()
        rows.referral("r1", by: "a", at: "2025-03-01T00:00:00Z")
        rows.referral("r2", by: "a", at: "2025-03-01T00:00:00Z")
        rows.referral("r3", by: "a", at: "2025-03-01T00:00:00Z")
        // Berlin: 00:30 +01:00 and 23:30 +02:00 of 30 March (23 hours long), then 00:30 +02:00 of 31 March.
        rows.order("o1", for: "r1", total: "1.00", at: "2025-03-29T23:30:00Z")
        rows.order("o2", for: "r2", total: "2.00", at: "2025-03-30T21:30:00Z")
        rows.order("o3", for: "r3", total: "4.00", at: "2025-03-30T22:30:00Z")
        try rows.insert(into: harness.database)
        let outcome = await harness.revenue([
            "--as-of", "2025-04-30T00:00:00Z", "--currency", "USD", "--timezone", "Europe/Berlin", "--by", "day",
            "--from", "2025-03-29", "--to", "2025-03-31",
        ])
        #expect(outcome.status == .success, "\(outcome.message)")
        #expect(
            try outcome.periods().map { [$0["period"], $0["period_start"], $0["period_end"], $0["revenue"]] } == [
                ["2025-03-29", "2025-03-29T00:00:00+01:00", "2025-03-30T00:00:00+01:00", "0.00"],
                ["2025-03-30", "2025-03-30T00:00:00+01:00", "2025-03-31T00:00:00+02:00", "3.00"],
                ["2025-03-31", "2025-03-31T00:00:00+02:00", "2025-04-01T00:00:00+02:00", "4.00"],
            ])
    }

    @Test func anISOWeekRunsAcrossTheYearEnd() async throws {
        let harness = try await JobHarness()
        var rows = RevenueRows()
        for id in ["r1", "r2", "r3"] { rows.referral(id, by: "a", at: "2024-12-01T00:00:00Z") }
        rows.order("o1", for: "r1", total: "5.00", at: "2024-12-29T10:00:00Z")  // Sunday of 2024-W52
        rows.order("o2", for: "r2", total: "6.00", at: "2024-12-31T10:00:00Z")  // Tuesday of 2025-W01
        rows.order("o3", for: "r3", total: "7.00", at: "2025-01-02T10:00:00Z")
        try rows.insert(into: harness.database)
        let outcome = await harness.revenue([
            "--as-of", "2025-02-01T00:00:00Z", "--currency", "USD", "--by", "week", "--from", "2024-12-23",
            "--to", "2025-01-05",
        ])
        #expect(outcome.status == .success, "\(outcome.message)")
        #expect(
            try outcome.periods().map { [$0["period"], $0["label"], $0["period_end"], $0["revenue"]] } == [
                ["2024-12-23", "2024-W52", "2024-12-30T00:00:00+00:00", "5.00"],
                ["2024-12-30", "2025-W01", "2025-01-06T00:00:00+00:00", "13.00"],
            ])
    }

    @Test func aJPYShopHasNoMinorUnits() async throws {
        let harness = try await JobHarness()
        var rows = RevenueRows()
        rows.referral("r1", by: "a", at: "2025-01-01T00:00:00Z")
        rows.referral("r2", by: "b", at: "2025-01-01T00:00:00Z")
        rows.order("o1", for: "r1", total: "4200", discount: "500", currency: "JPY", at: "2025-01-15T00:00:00Z")
        rows.order("o2", for: "r2", total: "1800", discount: "200", currency: "JPY", at: "2025-02-15T00:00:00Z")
        try rows.insert(into: harness.database)
        let outcome = await harness.revenue(["--as-of", "2025-02-28T00:00:00Z", "--currency", "JPY"])
        #expect(outcome.status == .success, "\(outcome.message)")
        #expect(
            try outcome.periods().map { figures($0, ["currency", "revenue", "discounts", "average_order_value"]) } == [
                ["JPY", "4200", "500", "4200"], ["JPY", "1800", "200", "1800"],
            ])
        #expect(
            try outcome.markdown().contains("| **Total** | **2** | **2** | **2** | **6000** | **700** | **3000** |"))
    }

    @Test func subCentAmountsShowTheRoundingDifference() async throws {
        let harness = try await JobHarness()
        var rows = RevenueRows()
        rows.referral("r1", by: "a", at: "2025-01-01T00:00:00Z")
        rows.referral("r2", by: "b", at: "2025-01-01T00:00:00Z")
        rows.order("o1", for: "r1", total: "0.005", at: "2025-01-15T00:00:00Z")
        rows.order("o2", for: "r2", total: "0.005", at: "2025-02-15T00:00:00Z")
        try rows.insert(into: harness.database)
        let outcome = await harness.revenue(["--as-of", "2025-02-28T00:00:00Z", "--currency", "USD"])
        #expect(outcome.status == .success, "\(outcome.message)")
        // Each period rounds 0.005 half to even, to 0.00; the two together are 0.01.
        #expect(try outcome.periods().map { $0["revenue"] } == ["0.00", "0.00"])
        let markdown = try outcome.markdown()
        #expect(markdown.contains("| **Total** | **2** | **2** | **2** | **0.01** |"))
        #expect(
            markdown.contains(
                "Rounding difference (revenue): the total, rounded once, minus the rounded periods is 0.01 USD"))
        // Each participant's attribute is 0.00 too: the report agrees per referrer, and says what is left over.
        #expect(markdown.contains("| Revenue, whole history, each referrer rounded once | 0.00 | 0.00 | equal |"))
        #expect(markdown.contains("attributes is 0.01 USD"))
    }

    @Test func excludedOrdersByReasonKeepTheirOwnCurrency() async throws {
        let harness = try await JobHarness()
        var rows = RevenueRows()
        for id in ["r1", "r2", "r3", "r4", "r5"] { rows.referral(id, by: "a", at: "2025-01-01T00:00:00Z") }
        rows.order("o1", for: "r1", total: "30.00", currency: "EUR", at: "2025-01-10T00:00:00Z")
        rows.order("o2", for: "r2", total: "500", currency: "JPY", at: "2025-01-11T00:00:00Z")
        rows.order("o3", for: "r3", total: "-5.00", at: "2025-01-12T00:00:00Z")
        rows.order("o4", for: "r4", total: "NaN", at: "2025-01-13T00:00:00Z")
        rows.order("o5", for: "r5", total: "40.00", at: "2025-01-14T00:00:00Z")
        rows.order("o6", for: "r5", total: "12.34", at: "2025-01-15T00:00:00Z")
        try rows.insert(into: harness.database)
        let outcome = await harness.revenue(["--as-of", "2025-01-31T00:00:00Z", "--currency", "USD"])
        #expect(outcome.status == .success, "\(outcome.message)")
        let excluded = try requireReports(outcome.reports).csv("excluded_orders.csv")
        #expect(
            excluded.map { figures($0, RevenueFiles.excludedHeader) } == [
                ["currency_mismatch", "EUR", "1", "30.00", "0"], ["currency_mismatch", "JPY", "1", "500", "0"],
                ["negative_total", "USD", "1", "-5.00", "0"],
                ["not_first_order_of_referral", "USD", "1", "12.34", "0"],
                ["total_not_finite", "USD", "1", "0.00", "1"],
            ])
        #expect(try outcome.periods().map { $0["revenue"] } == ["40.00"])
        #expect(try outcome.markdown().contains("| currency_mismatch | JPY | 1 | 500 | 0 |"))
    }
}

extension RevenueReportTests {
    /// New York's 3 November 2024 is 25 hours long: 01:30 happens twice, once in each offset, and each order
    /// counts once, on that day.
    @Test func aDaylightSavingDayOf25HoursCountsTheRepeatedHourOnce() async throws {
        let harness = try await JobHarness()
        var rows = RevenueRows()
        rows.referral("r1", by: "a", at: "2024-10-01T00:00:00Z")
        rows.referral("r2", by: "a", at: "2024-10-01T00:00:00Z")
        rows.order("o1", for: "r1", total: "3.00", at: "2024-11-03T05:30:00Z")  // 01:30 EDT (-04:00)
        rows.order("o2", for: "r2", total: "5.00", at: "2024-11-03T06:30:00Z")  // 01:30 EST (-05:00)
        try rows.insert(into: harness.database)
        let outcome = await harness.revenue([
            "--as-of", "2024-12-01T00:00:00Z", "--currency", "USD", "--timezone", "America/New_York", "--by", "day",
            "--from", "2024-11-02", "--to", "2024-11-04",
        ])
        #expect(outcome.status == .success, "\(outcome.message)")
        #expect(
            try outcome.periods().map { [$0["period"], $0["period_start"], $0["successful_referrals"], $0["revenue"]] }
                == [
                    ["2024-11-02", "2024-11-02T00:00:00-04:00", "0", "0.00"],
                    ["2024-11-03", "2024-11-03T00:00:00-04:00", "2", "8.00"],
                    ["2024-11-04", "2024-11-04T00:00:00-05:00", "0", "0.00"],
                ])
    }

    /// Where clocks go back at midnight (America/Havana on 2026-11-01: 00:00-00:59 happens at 04:00 and again at
    /// 05:00 UTC), the repeated hour belongs to the day and the month its clocks show, which start at the first
    /// midnight. PostgreSQL's `AT TIME ZONE` alone gives the second, which put 00:30 (first pass) in October.
    @Test func aRepeatedMidnightBelongsToTheDayItsClocksShow() async throws {
        let harness = try await JobHarness()
        var rows = RevenueRows()
        rows.referral("r1", by: "a", at: "2026-10-01T00:00:00Z")
        rows.referral("r2", by: "b", at: "2026-10-01T00:00:00Z")
        rows.order("o1", for: "r1", total: "7.00", at: "2026-11-01T04:30:00Z")  // 00:30 CDT (-04:00), first pass
        rows.order("o2", for: "r2", total: "2.00", at: "2026-10-31T23:00:00Z")  // 19:00 CDT on 31 October
        try rows.insert(into: harness.database)
        let zone = ["--as-of", "2026-12-01T00:00:00Z", "--currency", "USD", "--timezone", "America/Havana"]
        let days = await harness.revenue(
            zone + ["--by", "day", "--from", "2026-10-31", "--to", "2026-11-01"],
            directory: harness.reportsDirectory + "/days")
        #expect(days.status == .success, "\(days.message)")
        #expect(
            try days.periods().map { [$0["period"], $0["period_start"], $0["period_end"], $0["revenue"]] } == [
                ["2026-10-31", "2026-10-31T00:00:00-04:00", "2026-11-01T00:00:00-04:00", "2.00"],
                ["2026-11-01", "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00", "7.00"],
            ])
        let months = await harness.revenue(
            zone + ["--by", "month", "--from", "2026-10", "--to", "2026-11"],
            directory: harness.reportsDirectory + "/months")
        #expect(months.status == .success, "\(months.message)")
        #expect(
            try months.periods().map { [$0["period"], $0["period_start"], $0["revenue"]] } == [
                ["2026-10-01", "2026-10-01T00:00:00-04:00", "2.00"],
                ["2026-11-01", "2026-11-01T00:00:00-04:00", "7.00"],
            ])
    }
}
