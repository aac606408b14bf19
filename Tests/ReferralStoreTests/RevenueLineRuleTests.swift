import Foundation
import Postgres
import ReferralModel
import TestSupport
import Testing

@testable import ReferralStore

/// `referral_sync_revenue_lines` (sql/definitions/90_revenue_report.sql, README "Finance") called directly: the
/// lines of the redemption and booked bases, on rows built in each test.
@Suite struct RevenueLineRuleTests {
    typealias Rules = ReferralRuleTests.Rules

    /// The lines as `order sign dated_at` for the basis, in date order.
    static func lines(_ rules: Rules, booked: Bool) throws -> [String] {
        try rules.rows(
            """
            SELECT order_id, sign, referral_sync_timestamp(dated_at) AS dated_at
            FROM referral_sync_revenue_lines($1::timestamptz, 'USD', \(booked))
            ORDER BY dated_at, sign DESC
            """
        ).map { "\($0["order_id"] ?? "") \($0["sign"] ?? "") \($0["dated_at"] ?? "")" }
    }

    @Test func aSuccessfulReferralIsOneLineAtItsRedemptionInBothBases() throws {
        let rules = try Rules(ReferralRuleTests.referral("r1") + ReferralRuleTests.order("o1", of: "r1"))
        let expected = ["o1 1 2024-02-01T00:00:00.000Z"]
        #expect(try Self.lines(rules, booked: false) == expected)
        #expect(try Self.lines(rules, booked: true) == expected)
    }

    @Test func aRejectionAfterTheOrderIsReversedInTheBookedBasisOnly() throws {
        let rules = try Rules(
            ReferralRuleTests.referral("r1") + ReferralRuleTests.order("o1", of: "r1")
                + "INSERT INTO referral_rejections (referral_id, rejected_at) VALUES ('r1', '2024-03-05Z');")
        #expect(try Self.lines(rules, booked: false) == [])
        #expect(
            try Self.lines(rules, booked: true) == [
                "o1 1 2024-02-01T00:00:00.000Z", "o1 -1 2024-03-05T00:00:00.000Z",
            ])
    }

    @Test func aRejectionBeforeTheOrderNeverBooksIt() throws {
        let rules = try Rules(
            ReferralRuleTests.referral("r1") + ReferralRuleTests.order("o1", of: "r1")
                + "INSERT INTO referral_rejections (referral_id, rejected_at) VALUES ('r1', '2024-01-20Z');")
        #expect(try Self.lines(rules, booked: true) == [])
    }

    @Test func aRejectionAfterAsOfDoesNotApplyYet() throws {
        let rules = try Rules(
            ReferralRuleTests.referral("r1") + ReferralRuleTests.order("o1", of: "r1")
                + "INSERT INTO referral_rejections (referral_id, rejected_at) VALUES ('r1', '2024-07-01Z');")
        #expect(try Self.lines(rules, booked: true) == ["o1 1 2024-02-01T00:00:00.000Z"])
        #expect(try Self.lines(rules, booked: false) == ["o1 1 2024-02-01T00:00:00.000Z"])
    }

    @Test func onlyTheQualifyingOrderIsALine() throws {
        let rules = try Rules(
            ReferralRuleTests.referral("r1") + ReferralRuleTests.order("o2", of: "r1", redeemed: "2024-02-05Z")
                + ReferralRuleTests.order("o1", of: "r1", redeemed: "2024-02-01Z")
                + ReferralRuleTests.order("o3", of: "r1", currency: "EUR", redeemed: "2024-01-30Z"))
        #expect(try Self.lines(rules, booked: true) == ["o1 1 2024-02-01T00:00:00.000Z"])
    }

    /// The periods statement raises work_mem for itself (RevenueStore.periods) and leaves the connection's own
    /// setting as it was, whether lower or higher than its 64MB, and the periods are read all the same.
    @Test func thePeriodsLeaveTheConnectionsWorkMemAsItWas() throws {
        let rules = try Rules(ReferralRuleTests.referral("r1") + ReferralRuleTests.order("o1", of: "r1"))
        let connection = rules.connection
        try connection.run("BEGIN ISOLATION LEVEL REPEATABLE READ")
        defer { try? connection.run("ROLLBACK") }
        let asOf = try #require(Timestamp(iso8601: ReferralRuleTests.asOf))
        let usd = try #require(Currency(code: "USD"))
        // The report reads the kept lines: a refresh keeps them (80_refresh).
        _ = try connection.query(
            "SELECT count(*) FROM referral_sync_refresh($1::timestamptz, 'USD', 2, NULL, true)",
            [ReferralRuleTests.asOf])
        try RevenueStore.prepare(on: connection, asOf: asOf, currency: usd, basis: .redemption)
        let range = try RevenueStore.range(
            on: connection, zone: "UTC", unit: .month, from: nil, to: nil, asOf: asOf)
        for setting in ["1MB", "256MB"] {
            try connection.run("SET LOCAL work_mem = '\(setting)'")
            let rows = try RevenueStore.periods(
                on: connection, zone: "UTC", unit: .month, range: range, currency: usd)
            #expect(rows.contains { (try? $0.value("kind")) == "total" })
            #expect(try rules.value("SHOW work_mem") == setting)
        }
    }
}
