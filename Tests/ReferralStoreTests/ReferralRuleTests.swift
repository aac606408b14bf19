import Foundation
import Postgres
import TestSupport
import Testing

@testable import ReferralStore

/// The referral rules of `sql/definitions/` (README "Attribute definitions") called directly on rows built in
/// each test, apart from the refresh and the job: which referrals count, the qualifying order, successful
/// referrals, revenue and participants.
@Suite struct ReferralRuleTests {
    static let asOf = "2024-06-01T00:00:00Z"

    /// A migrated database holding one referrer `c1` (email `a@example.com`, opted in) and `rows` (SQL inserts).
    final class Rules {
        let database: TestDatabase
        let connection: PostgresConnection

        init(_ rows: String) throws {
            database = try TestDatabase.create()
            connection = try database.connect()
            try Migrations.apply(on: connection)
            try connection.run(
                """
                INSERT INTO customers (customer_id, email, opted_in_at) VALUES ('c1', 'a@example.com', '2024-01-01Z');
                \(rows)
                """)
        }

        deinit {
            connection.close()
            database.drop()
        }

        /// The query's rows as `column: value` maps ("NULL" for NULL), with `$1` the as-of.
        func rows(_ sql: String) throws -> [[String: String]] {
            try connection.query(sql, [ReferralRuleTests.asOf]).map { row in
                Dictionary(
                    uniqueKeysWithValues: row.columns.names.enumerated().map { ($1, row[$0] ?? "NULL") })
            }
        }

        func value(_ sql: String, _ parameters: [String?] = []) throws -> String? {
            try connection.query(sql, parameters).first?[0]
        }
    }

    static func referral(_ id: String, created: String = "2024-01-10Z", recipientEmail: String? = nil) -> String {
        let email = recipientEmail.map { "'\($0)'" } ?? "NULL"
        return "INSERT INTO referrals (referral_id, referrer_id, recipient_email, created_at) "
            + "VALUES ('\(id)', 'c1', \(email), '\(created)');"
    }

    static func order(
        _ id: String, of referral: String, total: String = "10", currency: String = "USD",
        redeemed: String = "2024-02-01Z"
    ) -> String {
        "INSERT INTO referral_orders (order_id, referral_id, total_price, currency, redeemed_at) "
            + "VALUES ('\(id)', '\(referral)', '\(total)', '\(currency)', '\(redeemed)');"
    }

    @Test func theQualifyingOrderIsTheEarliestValidOrderThenTheSmallestOrderID() throws {
        let rules = try Rules(
            Self.referral("r1") + Self.order("o1", of: "r1", total: "-5", redeemed: "2024-01-15Z")
                + Self.order("o3", of: "r1") + Self.order("o2", of: "r1"))
        let orders = try rules.rows(
            "SELECT order_id, reason, qualifying, first_order_id FROM referral_sync_order_checks($1, 'USD', NULL) "
                + "ORDER BY order_id")
        #expect(orders.map { $0["order_id"] } == ["o1", "o2", "o3"])
        #expect(orders.map { $0["qualifying"] } == ["f", "t", "f"])
        #expect(orders.map { $0["reason"] } == ["negative_total", "NULL", "NULL"])
        #expect(orders[2]["first_order_id"] == "o2")
    }

    @Test func anOrderIsNotValidForTheFirstReasonThatApplies() throws {
        let rules = try Rules(
            Self.referral("r1") + Self.order("a_after", of: "r1", redeemed: "2024-06-01T00:00:00.000001Z")
                + Self.order("b_infinite", of: "r1", redeemed: "-infinity")
                + Self.order("c_nan", of: "r1", total: "NaN") + Self.order("d_negative", of: "r1", total: "-0.01")
                + Self.order("e_currency", of: "r1", currency: "usd")
                + Self.order("f_early", of: "r1", redeemed: "2024-01-09Z")
                + Self.order("g_at_as_of", of: "r1", redeemed: "2024-06-01T00:00:00Z")
                + "INSERT INTO referrals (referral_id, referrer_id, recipient_customer_id, created_at) "
                + "VALUES ('r2', 'c1', 'c1', '2024-01-10Z');" + Self.order("h_self", of: "r2"))
        let reasons = try rules.rows(
            "SELECT order_id, reason FROM referral_sync_order_checks($1, 'USD', NULL) ORDER BY order_id"
        ).map { $0["reason"] }
        #expect(
            reasons == [
                "redeemed_after_as_of", "redeemed_at_not_finite", "total_not_finite", "negative_total",
                "currency_mismatch", "redeemed_before_referral_created", "NULL", "referral_not_counted",
            ])
    }

    @Test func aReferralCountsUnlessCreatedAfterAsOfOrASelfReferral() throws {
        let rules = try Rules(
            Self.referral("r_late", created: "2024-06-02Z")
                + Self.referral("r_own_email", recipientEmail: " A@Example.COM ")
                + Self.referral("r_blank", recipientEmail: " ")
                + Self.referral("r_other", recipientEmail: "b@example.com")
                + "INSERT INTO referrals (referral_id, referrer_id, recipient_customer_id, created_at) "
                + "VALUES ('r_own_id', 'c1', 'c1', '2024-01-10Z');"
                + "INSERT INTO customers (customer_id, email) VALUES ('c2', NULL);"
                + "INSERT INTO referrals (referral_id, referrer_id, recipient_email, created_at) "
                + "VALUES ('r_no_emails', 'c2', NULL, '2024-01-10Z');")
        let reasons = try rules.rows(
            "SELECT referral_id, reason FROM referral_sync_referral_checks($1, NULL) ORDER BY referral_id"
        ).map { "\($0["referral_id"] ?? ""): \($0["reason"] ?? "")" }
        #expect(
            reasons == [
                "r_blank: NULL", "r_late: created_after_as_of", "r_no_emails: NULL", "r_other: NULL",
                "r_own_email: self_referral_by_email", "r_own_id: self_referral_by_customer_id",
            ])
    }

    @Test func aSuccessfulReferralHasAQualifyingOrderAndNoRejectionDatedByAsOf() throws {
        let rules = try Rules(
            Self.referral("r_ok") + Self.order("o_ok", of: "r_ok")
                + Self.referral("r_zero") + Self.order("o_zero", of: "r_zero", total: "0")
                + Self.referral("r_rejected_before_order") + Self.order("o_rejected", of: "r_rejected_before_order")
                + "INSERT INTO referral_rejections VALUES ('r_rejected_before_order', NULL, NULL, '2024-01-20Z');"
                + Self.referral("r_rejected_later") + Self.order("o_later", of: "r_rejected_later")
                + "INSERT INTO referral_rejections VALUES ('r_rejected_later', NULL, NULL, '2024-07-01Z');"
                + Self.referral("r_no_order") + Self.referral("r_self", recipientEmail: "a@example.com")
                + Self.order("o_self", of: "r_self"))
        let successes = try rules.rows(
            "SELECT referral_id, order_id FROM referral_sync_successful_referrals($1, 'USD', NULL) ORDER BY 1"
        ).map { "\($0["referral_id"] ?? "") by \($0["order_id"] ?? "")" }
        #expect(successes == ["r_ok by o_ok", "r_rejected_later by o_later", "r_zero by o_zero"])
    }

    @Test func revenueIsTheExactSumOfTheQualifyingOrdersRoundedOnce() throws {
        let rules = try Rules(
            Self.referral("r1") + Self.order("o1", of: "r1", total: "0.005", redeemed: "2024-02-01T10:00:00.123456Z")
                + Self.order("o1_second", of: "r1", total: "100", redeemed: "2024-03-01Z")
                + Self.referral("r2") + Self.order("o2", of: "r2", total: "0.005", redeemed: "2024-01-20Z")
                + Self.referral("r3") + Self.order("o3", of: "r3", total: "50")
                + "INSERT INTO referral_rejections VALUES ('r3', NULL, NULL, '2024-02-02Z');")
        let totals = try rules.rows("SELECT * FROM referral_sync_referrer_successes($1, 'USD', NULL)")
        #expect(totals.count == 1)
        #expect(totals.first?["referrer_id"] == "c1")
        #expect(totals.first?["successful_referrals"] == "2")
        #expect(totals.first?["revenue"] == "0.010")
        #expect(
            try rules.value(
                "SELECT referral_sync_timestamp(latest_at) FROM referral_sync_referrer_successes($1, 'USD', NULL)",
                [Self.asOf]) == "2024-02-01T10:00:00.123Z")
        func revenue(_ sum: String?, _ units: Int) throws -> String? {
            try rules.value("SELECT referral_sync_revenue($1::numeric, $2::integer)", [sum, String(units)])
        }
        #expect(try revenue("0.010", 2) == "0.01")
        #expect(try revenue(nil, 2) == "0.00")
        #expect(try revenue(nil, 0) == "0")
        #expect(try revenue("1234567890123.445", 2) == "1234567890123.44")
        #expect(try revenue("1000000000000000.5", 0) == "1000000000000000")
        #expect(try revenue("1.2505", 3) == "1.250")
    }

    @Test func theReferrersArgumentLimitsEveryRuleToTheirReferrals() throws {
        let rules = try Rules(
            Self.referral("r1") + Self.order("o1", of: "r1")
                + "INSERT INTO customers (customer_id, opted_in_at) VALUES ('c2', '2024-01-01Z');"
                + "INSERT INTO referrals (referral_id, referrer_id, created_at) VALUES ('r2', 'c2', '2024-01-10Z');"
                + Self.order("o2", of: "r2", total: "7.5"))
        let only = try rules.rows("SELECT * FROM referral_sync_referrer_successes($1, 'USD', ARRAY['c2'])")
        #expect(only.map { $0["referrer_id"] } == ["c2"])
        #expect(only.first?["revenue"] == "7.5")
        #expect(try rules.rows("SELECT * FROM referral_sync_referrer_successes($1, 'USD', NULL)").count == 2)
        #expect(try rules.rows("SELECT * FROM referral_sync_order_checks($1, 'USD', ARRAY['c1'])").count == 1)
        #expect(try rules.rows("SELECT * FROM referral_sync_referral_checks($1, ARRAY[]::text[])").isEmpty)
    }

    @Test func aParticipantOptedInOrReferredByAsOfInclusive() throws {
        let rules = try Rules("")
        func participant(_ optedIn: String?, _ referred: String?) throws -> String? {
            try rules.value(
                "SELECT referral_sync_is_participant($1::timestamptz, $2::boolean, $3::timestamptz)",
                [optedIn, referred, Self.asOf])
        }
        #expect(try participant(Self.asOf, "false") == "t")
        #expect(try participant("2024-06-01T00:00:00.000001Z", "false") == "f")
        #expect(try participant("2024-06-02Z", "true") == "t")
        #expect(try participant(nil, "false") == "f")
        #expect(try participant(nil, nil) == "f")
    }
}
