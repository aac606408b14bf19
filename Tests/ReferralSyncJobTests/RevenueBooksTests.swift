import Foundation
import ReferralSyncJob
import TestSupport
import Testing

@testable import ReferralSyncCLI

/// The booked basis's books (README "Finance", issue 26): `revenue --close`, the adjustments a later report books
/// for what arrived after a close, and the refusals. Figures worked out by hand.
@Suite struct RevenueBooksTests {
    /// January: o1 100.00 (r1), o2 40.00 (r2), o3 30.00 (r3); February: o4 50.00 (r4).
    static func januaryAndFebruary() -> RevenueRows {
        var rows = RevenueRows()
        rows.referral("r1", by: "a", at: "2025-01-02T00:00:00Z")
        rows.order("o1", for: "r1", total: "100.00", discount: "10.00", at: "2025-01-15T00:00:00Z")
        rows.referral("r2", by: "b", at: "2025-01-03T00:00:00Z")
        rows.order("o2", for: "r2", total: "40.00", discount: "4.00", at: "2025-01-20T00:00:00Z")
        rows.referral("r3", by: "c", at: "2025-01-04T00:00:00Z")
        rows.order("o3", for: "r3", total: "30.00", at: "2025-01-25T00:00:00Z")
        rows.referral("r4", by: "d", at: "2025-02-01T00:00:00Z")
        rows.order("o4", for: "r4", total: "50.00", at: "2025-02-10T00:00:00Z")
        return rows
    }

    static let booked = ["--currency", "USD", "--basis", "booked"]

    /// revenue.csv's row of `period` (its first day).
    static func row(_ outcome: RevenueOutcome, _ period: String) throws -> [String: String]? {
        try outcome.periods().first { $0["period"] == period }
    }

    /// Closes January (as of 5 February); a February order arrives after February ended (its arrival time says
    /// 2 March) and before February's close (as of 3 March).
    static func closeJanuaryAndFebruary(_ harness: JobHarness) async throws -> (RevenueOutcome, RevenueOutcome) {
        try januaryAndFebruary().insert(into: harness.database)
        let january = await harness.revenue(["--as-of", "2025-02-05T00:00:00Z", "--close", "2025-01"] + booked)
        var late = RevenueRows()
        late.referral("r5", by: "e", at: "2025-02-20T00:00:00Z")
        late.order("o5", for: "r5", total: "20.00", at: "2025-02-25T00:00:00Z")
        try late.insert(into: harness.database)
        try harness.database.run(
            """
            UPDATE referral_sync_row_arrivals SET first_seen = '2025-03-02T00:00:00Z', last_changed = '2025-03-02T00:00:00Z'
            WHERE source = 'referral_orders' AND key = 'o5'
            """)
        let february = await harness.revenue(["--as-of", "2025-03-03T00:00:00Z", "--close", "2025-02"] + booked)
        return (january, february)
    }

    @Test func closedPeriodsStayAsClosedAndLateEffectsAreAdjustmentsInTheOpenPeriod() async throws {
        let harness = try await JobHarness()
        let (januaryClose, februaryClose) = try await Self.closeJanuaryAndFebruary(harness)
        #expect(januaryClose.status == .success, "\(januaryClose.message)")
        #expect(februaryClose.status == .success, "\(februaryClose.message)")
        let january = try Self.row(januaryClose, "2025-01-01")
        let february = try Self.row(februaryClose, "2025-02-01")
        #expect(figures(january, ["successful_referrals", "net_revenue", "adjustments"]) == ["3", "170.00", "0.00"])
        // o5 arrived after February ended and before its close: booked in February.
        #expect(figures(february, ["successful_referrals", "net_revenue", "adjustments"]) == ["2", "70.00", "0.00"])

        // After both closes: a rejection of r1 dated in January before its order, an earlier order of r2 in
        // January (45.00 replaces 40.00), and o3 deleted.
        var late = RevenueRows()
        late.rejection(of: "r1", at: "2025-01-10T00:00:00Z")
        late.order("o2e", for: "r2", total: "45.00", at: "2025-01-18T00:00:00Z")
        try late.insert(into: harness.database)
        try harness.database.run("DELETE FROM referral_orders WHERE order_id = 'o3'")

        let march = await harness.revenue(["--as-of", "2025-03-10T00:00:00Z"] + Self.booked)
        #expect(march.status == .success, "\(march.message)")
        #expect(try Self.row(march, "2025-01-01") == january, "January as closed, every column")
        #expect(try Self.row(march, "2025-02-01") == february, "February as closed, every column")
        // -100.00 (o1 never booked) + 45.00 - 40.00 (o2e replaces o2) - 30.00 (o3 deleted) = -125.00.
        #expect(
            figures(try Self.row(march, "2025-03-01"), ["net_revenue", "adjustments", "adjusted_net_revenue"])
                == ["0.00", "-125.00", "-125.00"])
        let markdown = try march.markdown()
        for line in [
            "| 2025-01 | 2025-03 (open) | rejection loaded after the close | r1 | o1 | -100.00 |",
            "| 2025-01 | 2025-03 (open) | earlier order loaded after the close replaces the qualifying order | r2 | o2 | -40.00 |",
            "| 2025-01 | 2025-03 (open) | earlier order loaded after the close replaces the qualifying order | r2 | o2e | 45.00 |",
            "| 2025-01 | 2025-03 (open) | order deleted after the close | r3 | o3 | -30.00 |",
        ] {
            #expect(markdown.contains(line), "\(line)\n\(markdown)")
        }
        // Whole history: 170.00 + 70.00 - 125.00 = 115.00, the lines now (o2e, o4, o5), the redemption basis and
        // the attributes.
        let total = try requireReports(march.reports).csv("revenue.csv")
        #expect(total.map { $0["adjusted_net_revenue"] ?? "" }.compactMap { Decimal(string: $0) }.reduce(0, +) == 115)
        #expect(markdown.contains("| Revenue, whole history, each referrer rounded once | 115.00 | 115.00 | equal |"))
        #expect(markdown.contains("against the range's lines now | 115.00 | 115.00 | equal |"), "\(markdown)")
        let redemption = await harness.revenue(
            ["--as-of", "2025-03-10T00:00:00Z", "--currency", "USD"], directory: harness.reportsDirectory + "/r")
        let redemptionTotal = try redemption.markdown().split(separator: "\n").first { $0.hasPrefix("| **Total** |") }
        #expect(redemptionTotal?.hasSuffix("| **115.00** |") == true, "\(redemptionTotal ?? "none")")
    }

    /// Effects that arrive between January's close and February's (a deleted order, a late order) are booked in
    /// February, and February's close keeps them there.
    @Test func anEffectArrivingBeforeTheNextCloseIsBookedInThatPeriod() async throws {
        let harness = try await JobHarness()
        try Self.januaryAndFebruary().insert(into: harness.database)
        let january = await harness.revenue(["--as-of", "2025-02-05T00:00:00Z", "--close", "2025-01"] + Self.booked)
        #expect(january.status == .success, "\(january.message)")
        try harness.database.run("DELETE FROM referral_orders WHERE order_id = 'o3'")
        var late = RevenueRows()
        late.referral("r6", by: "f", at: "2025-01-05T00:00:00Z")
        late.order("o6", for: "r6", total: "35.00", at: "2025-01-28T00:00:00Z")
        try late.insert(into: harness.database)
        let february = await harness.revenue(["--as-of", "2025-03-03T00:00:00Z", "--close", "2025-02"] + Self.booked)
        #expect(february.status == .success, "\(february.message)")
        let closed = figures(
            try Self.row(february, "2025-02-01"), ["net_revenue", "adjustments", "adjusted_net_revenue"])
        #expect(closed == ["50.00", "5.00", "55.00"])
        let march = await harness.revenue(["--as-of", "2025-03-10T00:00:00Z"] + Self.booked)
        #expect(
            figures(try Self.row(march, "2025-02-01"), ["net_revenue", "adjustments", "adjusted_net_revenue"])
                == closed)
        #expect(figures(try Self.row(march, "2025-03-01"), ["adjustments"]) == ["0.00"])
        let markdown = try march.markdown()
        #expect(markdown.contains("| 2025-01 | 2025-02 | order deleted after the close | r3 | o3 | -30.00 |"))
        #expect(markdown.contains("| 2025-01 | 2025-02 | late order: loaded after the close | r6 | o6 | 35.00 |"))
    }

    @Test func closingAnUnfinishedPeriodIsRefused() async throws {
        let harness = try await JobHarness()
        try Self.januaryAndFebruary().insert(into: harness.database)
        let refused = await harness.revenue(["--as-of", "2025-01-31T23:00:00Z", "--close", "2025-01"] + Self.booked)
        #expect(refused.status == .usage, "\(refused.message)")
        #expect(refused.message.contains("after as-of"), "\(refused.message)")
        #expect(try harness.database.connect().query("SELECT count(*) FROM referral_sync_revenue_closes")[0][0] == "0")
    }

    @Test func skippingAPeriodIsRefused() async throws {
        let harness = try await JobHarness()
        try Self.januaryAndFebruary().insert(into: harness.database)
        // The first close: January has lines, so February cannot be the first.
        let first = await harness.revenue(["--as-of", "2025-03-05T00:00:00Z", "--close", "2025-02"] + Self.booked)
        #expect(first.status == .usage, "\(first.message)")
        #expect(first.message.contains("nothing is closed yet"), "\(first.message)")
        let january = await harness.revenue(["--as-of", "2025-03-05T00:00:00Z", "--close", "2025-01"] + Self.booked)
        #expect(january.status == .success, "\(january.message)")
        let skipping = await harness.revenue(["--as-of", "2025-04-05T00:00:00Z", "--close", "2025-03"] + Self.booked)
        #expect(skipping.status == .usage, "\(skipping.message)")
        #expect(skipping.message.contains("the last closed is 2025-01"), "\(skipping.message)")
        // From the variable, the same refusal is a configuration error.
        let fromVariable = await harness.revenue(
            ["--as-of", "2025-04-05T00:00:00Z"] + Self.booked, environment: ["REFERRAL_SYNC_REVENUE_CLOSE": "2025-03"])
        #expect(fromVariable.status == .configuration, "\(fromVariable.message)")
    }

    @Test func closingTwiceIsRefusedAndListed() async throws {
        let harness = try await JobHarness()
        try Self.januaryAndFebruary().insert(into: harness.database)
        let first = await harness.revenue(["--as-of", "2025-02-05T00:00:00Z", "--close", "2025-01"] + Self.booked)
        #expect(first.status == .success, "\(first.message)")
        let again = await harness.revenue(["--as-of", "2025-03-05T00:00:00Z", "--close", "2025-01"] + Self.booked)
        #expect(again.status == .usage, "\(again.message)")
        #expect(again.message.contains("closed already"), "\(again.message)")
        let listing = CapturedText()
        let status = await ReferralSyncCommand.main(
            arguments: ["revenue", "--closed"], environment: harness.environment, output: { listing.append($0) })
        #expect(status == .success)
        let role = try harness.database.connect().query("SELECT current_user")[0][0] ?? ""
        #expect(listing.text.contains("month\tUTC\t2025-01\tUSD\t"), "\(listing.text)")
        #expect(listing.text.contains("\t\(role)\t2025-02-05T00:00:00Z\t3\t170.00\t0.00\t170.00\n"), "\(listing.text)")
    }

    /// A quarter ends at midnight of its zone: 2025-Q1 in Pacific/Auckland (UTC+13 then) ends at 11:00 UTC on
    /// 31 March, 13 hours before it ends in UTC. Closed by the zone's calendar, listed with its unit and zone, and
    /// the next report's quarter row is the closed one.
    @Test func aQuarterClosesWhenItEndsInTheReportsZone() async throws {
        let harness = try await JobHarness()
        try Self.januaryAndFebruary().insert(into: harness.database)
        let auckland = ["--timezone", "Pacific/Auckland", "--close", "2025-Q1"] + Self.booked
        let early = await harness.revenue(["--as-of", "2025-03-31T10:59:00Z"] + auckland)
        #expect(early.status == .usage, "\(early.message)")
        #expect(early.message.contains("after as-of"), "\(early.message)")
        let inUTC = await harness.revenue(
            ["--as-of", "2025-03-31T11:01:00Z", "--timezone", "UTC", "--close", "2025-Q1"] + Self.booked)
        #expect(inUTC.status == .usage, "in UTC the quarter has not ended: \(inUTC.message)")
        let closed = await harness.revenue(["--as-of", "2025-03-31T11:01:00Z"] + auckland)
        #expect(closed.status == .success, "\(closed.message)")

        let listing = CapturedText()
        let status = await ReferralSyncCommand.main(
            arguments: ["revenue", "--closed"], environment: harness.environment, output: { listing.append($0) })
        #expect(status == .success)
        #expect(listing.text.contains("quarter\tPacific/Auckland\t2025-Q1\tUSD\t"), "\(listing.text)")
        #expect(listing.text.contains("\t2025-03-31T11:01:00Z\t4\t220.00\t0.00\t220.00\n"), "\(listing.text)")
        let quarter = try #require(try closed.periods().first)
        let later = await harness.revenue(
            ["--as-of", "2025-05-01T00:00:00Z", "--timezone", "Pacific/Auckland", "--by", "quarter"] + Self.booked)
        #expect(later.status == .success, "\(later.message)")
        #expect(try later.periods().first == quarter, "Q1 as closed, every column")
    }

    /// After a close, a booked report as of an earlier moment would see the closed periods' lines of that moment.
    @Test func aBookedReportBeforeTheLastClosesAsOfIsRefused() async throws {
        let harness = try await JobHarness()
        try Self.januaryAndFebruary().insert(into: harness.database)
        let january = await harness.revenue(["--as-of", "2025-02-05T00:00:00Z", "--close", "2025-01"] + Self.booked)
        #expect(january.status == .success, "\(january.message)")
        let earlier = await harness.revenue(["--as-of", "2025-02-04T00:00:00Z"] + Self.booked)
        #expect(earlier.status == .usage, "\(earlier.message)")
        #expect(earlier.message.contains("before the as-of of the last close"), "\(earlier.message)")
        let redemption = await harness.revenue(["--as-of", "2025-02-04T00:00:00Z", "--currency", "USD"])
        #expect(redemption.status == .success, "\(redemption.message)")
    }

    /// Before any close the booked rule is today's: no adjustments, adjusted net revenue is net revenue.
    @Test func beforeAnyCloseAdjustedIsNet() async throws {
        let harness = try await JobHarness()
        try Self.januaryAndFebruary().insert(into: harness.database)
        let report = await harness.revenue(["--as-of", "2025-03-05T00:00:00Z"] + Self.booked)
        #expect(report.status == .success, "\(report.message)")
        for row in try report.periods() {
            #expect(row["adjustments"] == "0.00")
            #expect(row["adjusted_net_revenue"] == row["net_revenue"])
        }
    }

    /// The triggers record arrivals: first seen, last changed, deleted; rows from before count from the beginning.
    @Test func arrivalTimesAreRecorded() async throws {
        let harness = try await JobHarness()
        try Self.januaryAndFebruary().insert(into: harness.database)
        let connection = try harness.database.connect()
        defer { connection.close() }
        try connection.run("DELETE FROM referral_sync_row_arrivals WHERE key = 'o4'")  // as if from before
        try connection.run("UPDATE referral_orders SET total_price = 51 WHERE order_id IN ('o1', 'o4')")
        try connection.run("DELETE FROM referral_orders WHERE order_id = 'o3'")
        let rows = try connection.query(
            """
            SELECT key, first_seen = '-infinity', last_changed >= first_seen, deleted_at IS NOT NULL
            FROM referral_sync_row_arrivals WHERE source = 'referral_orders' ORDER BY key
            """)
        #expect(
            rows.map { [$0[0], $0[1], $0[2], $0[3]] } == [
                ["o1", "f", "t", "f"], ["o2", "f", "t", "f"], ["o3", "f", "t", "t"], ["o4", "t", "t", "f"],
            ])
        #expect(try connection.query("SELECT count(*) FROM referral_sync_row_arrivals")[0][0] == "12")
    }
}
