import Foundation
import TestSupport
import Testing

@testable import ReferralSyncJob

/// The two bases of `referral-sync revenue` when a rejection arrives after the fact (README "Finance"): the
/// redemption basis restates the past and says so; the booked basis keeps the closed month and reverses in the
/// rejection's month. Figures worked out by hand.
@Suite struct RevenueBasisTests {
    /// Two successful referrals in January; the first report is as of 10 February.
    static func january() -> RevenueRows {
        var rows = RevenueRows()
        rows.referral("r1", by: "a", at: "2025-01-02T00:00:00Z")
        rows.order("o1", for: "r1", total: "100.00", discount: "10.00", at: "2025-01-15T00:00:00Z")
        rows.referral("r2", by: "b", at: "2025-01-03T00:00:00Z")
        rows.order("o2", for: "r2", total: "40.00", discount: "4.00", at: "2025-01-20T00:00:00Z")
        return rows
    }

    static let columns = [
        "period", "successful_referrals", "revenue", "reversed_referrals", "reversed_revenue", "net_revenue",
    ]

    /// Reports as of 10 February, then the rejection of r1 dated 20 February arrives, then reports as of 1 March.
    static func reportsAroundALateRejection(_ basis: String) async throws -> (
        JobHarness, RevenueOutcome, RevenueOutcome
    ) {
        let harness = try await JobHarness()
        try january().insert(into: harness.database)
        let first = await harness.revenue([
            "--as-of", "2025-02-10T00:00:00Z", "--currency", "USD", "--basis", basis, "--to", "2025-02",
        ])
        var late = RevenueRows()
        late.rejection(of: "r1", at: "2025-02-20T00:00:00Z")
        try late.insert(into: harness.database)
        let second = await harness.revenue([
            "--as-of", "2025-03-01T00:00:00Z", "--currency", "USD", "--basis", basis, "--to", "2025-02",
        ])
        return (harness, first, second)
    }

    @Test func theRedemptionBasisRestatesThePastAndSaysSo() async throws {
        let (harness, first, second) = try await Self.reportsAroundALateRejection("redemption")
        _ = harness
        #expect(first.status == .success, "\(first.message)")
        #expect(
            try first.periods().map { figures($0, Self.columns) } == [
                ["2025-01-01", "2", "140.00", "0", "0.00", "140.00"], ["2025-02-01", "0", "0.00", "0", "0.00", "0.00"],
            ])
        #expect(second.status == .success, "\(second.message)")
        #expect(
            try second.periods().map { figures($0, Self.columns) } == [
                ["2025-01-01", "1", "40.00", "0", "0.00", "40.00"], ["2025-02-01", "0", "0.00", "0", "0.00", "0.00"],
            ])
        let restated = try second.restatedSection()
        #expect(restated.contains("| 2025-01 | yes | 2 | 1 | 140.00 | 40.00 | -100.00 |"), "\(restated)")
        #expect(!restated.contains("| 2025-02 |"))
        let excluded = try requireReports(second.reports).csv("excluded_orders.csv")
        #expect(
            excluded.map { figures($0, ["reason", "orders", "amount"]) } == [["referral_rejected", "1", "100.00"]])
    }

    @Test func theBookedBasisKeepsTheClosedMonthAndReversesLater() async throws {
        let (harness, first, second) = try await Self.reportsAroundALateRejection("booked")
        _ = harness
        #expect(first.status == .success, "\(first.message)")
        #expect(second.status == .success, "\(second.message)")
        #expect(
            try second.periods().map { figures($0, Self.columns) } == [
                ["2025-01-01", "2", "140.00", "0", "0.00", "140.00"],
                ["2025-02-01", "0", "0.00", "1", "100.00", "-100.00"],
            ])
        // January, closed, is as the first report had it; only February (open then) changed.
        let january = try first.periods().first
        #expect(january.map { figures($0, Self.columns) } == ["2025-01-01", "2", "140.00", "0", "0.00", "140.00"])
        let restated = try second.restatedSection()
        #expect(!restated.contains("| 2025-01 |"), "\(restated)")
        #expect(restated.contains("| 2025-02 | no | 0 | 0 | 0.00 | -100.00 | -100.00 |"))
        let markdown = try second.markdown()
        #expect(
            markdown.contains(
                "| **Total** | **2** | **2** | **2** | **140.00** | **14.00** | **70.00** | **1** | **100.00** | **40.00** |"
            ))
    }

    @Test func overAllPeriodsBothBasesAgree() async throws {
        let harness = try await JobHarness()
        try Self.january().insert(into: harness.database)
        var late = RevenueRows()
        late.rejection(of: "r1", at: "2025-02-20T00:00:00Z")
        try late.insert(into: harness.database)
        for basis in ["redemption", "booked"] {
            let outcome = await harness.revenue(
                ["--as-of", "2025-03-01T00:00:00Z", "--currency", "USD", "--basis", basis],
                directory: harness.reportsDirectory + "/" + basis)
            #expect(outcome.status == .success, "\(outcome.message)")
            let markdown = try outcome.markdown()
            // The totals row ends with the net revenue: 40.00 in both, as the attributes say.
            let total = markdown.split(separator: "\n").first { $0.hasPrefix("| **Total** |") }
            #expect(total?.hasSuffix("| **40.00** |") == true, "\(basis): \(total ?? "none")")
            #expect(markdown.contains("| Revenue, whole history, each referrer rounded once | 40.00 | 40.00 | equal |"))
        }
    }

    /// The previous report is the database's (migration 0012), not a folder's: with the first report's folder
    /// deleted, a report with other options in between and the second report in another folder, the restatement
    /// is still found, against the first report of the same options.
    @Test func theRestatementIsFoundWithoutThePreviousFolder() async throws {
        let harness = try await JobHarness()
        try Self.january().insert(into: harness.database)
        let options = ["--currency", "USD", "--basis", "redemption", "--to", "2025-02"]
        let first = await harness.revenue(
            ["--as-of", "2025-02-10T00:00:00Z"] + options, directory: harness.reportsDirectory + "/first")
        #expect(first.status == .success, "\(first.message)")
        try FileManager.default.removeItem(atPath: harness.reportsDirectory + "/first")
        var late = RevenueRows()
        late.rejection(of: "r1", at: "2025-02-20T00:00:00Z")
        try late.insert(into: harness.database)
        let other = await harness.revenue(
            ["--as-of", "2025-03-01T00:00:00Z", "--by", "day"] + options,
            directory: harness.reportsDirectory + "/second")
        #expect(other.status == .success, "\(other.message)")
        #expect(try other.restatedSection().contains("| 2025-01-15 |") == false, "another unit is not compared")
        let second = await harness.revenue(
            ["--as-of", "2025-03-01T00:00:00Z"] + options, directory: harness.reportsDirectory + "/second")
        #expect(second.status == .success, "\(second.message)")
        let restated = try second.restatedSection()
        #expect(restated.contains("| 2025-01 | yes | 2 | 1 | 140.00 | 40.00 | -100.00 |"), "\(restated)")
        // And the report after it compares with the second: nothing changed since.
        let third = await harness.revenue(
            ["--as-of", "2025-03-02T00:00:00Z"] + options, directory: harness.reportsDirectory + "/second")
        let unchanged = try third.restatedSection()
        #expect(!unchanged.contains("| 2025-01 |"), "\(unchanged)")
    }

    /// A closed month that moves in the booked basis is said in bold: here a rejection dated before its order
    /// (January, closed at the first reports' as-of) arrives late, so January loses the referral. In the redemption
    /// basis the past moves by definition: the period is marked closed, not called out.
    @Test func aClosedPeriodThatChangesInTheBookedBasisIsSaidInBold() async throws {
        let harness = try await JobHarness()
        try Self.january().insert(into: harness.database)
        func report(_ basis: String, asOf: String) async -> RevenueOutcome {
            await harness.revenue(
                ["--as-of", asOf, "--currency", "USD", "--basis", basis, "--to", "2025-02"],
                directory: harness.reportsDirectory + "/" + basis)
        }
        for basis in ["booked", "redemption"] {
            let first = await report(basis, asOf: "2025-02-10T00:00:00Z")
            #expect(first.status == .success, "\(first.message)")
        }
        var late = RevenueRows()
        late.rejection(of: "r1", at: "2025-01-10T00:00:00Z")
        try late.insert(into: harness.database)
        let booked = await report("booked", asOf: "2025-02-20T00:00:00Z")
        #expect(booked.status == .success, "\(booked.message)")
        let restated = try booked.restatedSection()
        #expect(restated.contains("**1 closed period changed in the booked basis**"), "\(restated)")
        #expect(restated.contains("| 2025-01 | yes | 2 | 1 | 140.00 | 40.00 | -100.00 |"), "\(restated)")
        let redemption = try await report("redemption", asOf: "2025-02-20T00:00:00Z").restatedSection()
        #expect(redemption.contains("| 2025-01 | yes | 2 | 1 | 140.00 | 40.00 | -100.00 |"), "\(redemption)")
        #expect(!redemption.contains("closed period changed"), "\(redemption)")
    }

    /// Keeping the periods for the next report is bookkeeping: when it fails, the published report keeps its exit
    /// status and its folder, and a warning says so. The next report then compares with the one before.
    @Test func aFailureToKeepThePeriodsIsAWarningNotTheReportsStatus() async throws {
        let harness = try await JobHarness()
        try Self.january().insert(into: harness.database)
        let options = ["--currency", "USD", "--to", "2025-02"]
        let first = await harness.revenue(["--as-of", "2025-02-10T00:00:00Z"] + options)
        #expect(first.status == .success, "\(first.message)")
        try harness.database.run(
            """
            CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
            CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON referral_sync_revenue_reports
                FOR EACH ROW EXECUTE FUNCTION refuse();
            """)
        var late = RevenueRows()
        late.rejection(of: "r1", at: "2025-02-20T00:00:00Z")
        try late.insert(into: harness.database)
        let second = await harness.revenue(["--as-of", "2025-03-01T00:00:00Z"] + options)
        #expect(second.status == .success, "\(second.message)")
        #expect(second.reports != nil)
        let kept = try harness.database.connect().query(
            "SELECT outcome_counts->>'periods_kept' FROM referral_sync_runs WHERE command = 'revenue' ORDER BY run_id")
        #expect(kept.map { $0[0] } == ["true", "false"])
        #expect(try second.restatedSection().contains("| 2025-01 | yes | 2 | 1 |"))
        // The third compares with the first, the last report kept.
        try harness.database.run("DROP TRIGGER refuse ON referral_sync_revenue_reports")
        let third = await harness.revenue(["--as-of", "2025-03-02T00:00:00Z"] + options)
        #expect(try third.restatedSection().contains("| 2025-01 | yes | 2 | 1 |"))
    }
}
