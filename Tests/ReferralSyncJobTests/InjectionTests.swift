import AttentiveSimulator
import Foundation
import Postgres
import TestSupport
import Testing

@testable import ReferralSyncCLI
@testable import ReferralSyncJob

/// Hostile text in every text column of the landing zone: it travels through parameterised queries only, comes
/// out unchanged in the reports and at Attentive, and leaves the database as it was.
@Suite struct InjectionTests {
    /// Quotes, a statement break, a comment, placeholders, backslashes, COPY's NULL marker and a line break.
    static func hostile(_ tag: String) -> String {
        #"\#(tag)'; DROP TABLE customers; -- $1 $$ \N \\ "q""# + "\r\n\t" + "ünï"
    }

    /// Everything a test can compare before and after: the tables, their row counts, and a hash of each input
    /// table's full contents.
    static func snapshot(_ database: TestDatabase) throws -> [String] {
        var lines: [String] = []
        for row in try database.query(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        {
            let table = row[0] ?? ""
            let count = try database.query("SELECT count(*) FROM \(table)").first?[0] ?? ""
            lines.append("\(table) \(count)")
        }
        for table in ["customers", "referrals", "referral_orders", "referral_rejections"] {
            let hash = try database.query(
                "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \(table) t")
            lines.append("\(table) md5 \(hash.first?[0] ?? "")")
        }
        lines.append(
            try database.query("SELECT count(*) FROM pg_proc WHERE proname LIKE 'referral_sync%'").first?[0] ?? "")
        return lines
    }

    @Test func hostileValuesInEveryTextColumnComeOutUnchanged() async throws {
        let harness = try await JobHarness()
        let customer = Self.hostile("c1")
        let email = #"o'brien;$1\"x"--@example.com"#
        let phone = Self.hostile("415")  // not starting with + or -: the CSV formula guard would prefix it
        let link = #"https://test.oken.do/r?a='1';b=$1&c=\"d\"\e"#
        let referral = Self.hostile("r1")
        let foreignReferral = Self.hostile("r2")
        let order = Self.hostile("o1")
        let foreignOrder = Self.hostile("o2")
        let currency = Self.hostile("USD")
        let connection = try harness.database.connect()
        defer { connection.close() }
        try connection.execute(
            """
            INSERT INTO customers (customer_id, email, phone, first_name, last_name, locale, shareable_link, opted_in_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, '2024-01-01T00:00:00Z')
            """, [customer, email, phone, Self.hostile("first"), Self.hostile("last"), Self.hostile("locale"), link])
        for id in [referral, foreignReferral] {
            try connection.execute(
                """
                INSERT INTO referrals (referral_id, referrer_id, recipient_email, recipient_customer_id, channel, created_at)
                VALUES ($1, $2, $3, $4, $5, '2024-02-01T00:00:00Z')
                """, [id, customer, Self.hostile("recipient"), Self.hostile("recipient-id"), Self.hostile("channel")])
        }
        for (id, referralID, orderCurrency) in [(order, referral, "USD"), (foreignOrder, foreignReferral, currency)] {
            try connection.execute(
                """
                INSERT INTO referral_orders (order_id, order_number, referral_id, coupon_code, total_price, currency, redeemed_at)
                VALUES ($1, $2, $3, $4, 12.34, $5, '2024-03-01T00:00:00Z')
                """, [id, Self.hostile("number"), referralID, Self.hostile("coupon"), orderCurrency])
        }
        try connection.execute(
            """
            INSERT INTO referral_rejections (referral_id, rejection_type, reason, rejected_at)
            VALUES ($1, $2, $3, '2030-01-01T00:00:00Z')
            """, [foreignReferral, Self.hostile("type"), Self.hostile("reason")])
        let before = try Self.snapshot(harness.database)

        let (status, reports) = await harness.run(["--currency", "USD", "--as-of", "2025-01-01T00:00:00Z"])
        #expect(status == .success)
        let files = try #require(reports)
        let row = try #require(JobHarness.row(try files.csv("attributes.csv"), customer))
        #expect(row["customer_id"] == customer)
        #expect(row["email"] == email)
        #expect(row["phone"] == phone)
        #expect(row["shareable_link"] == link)
        #expect(row["successful_referrals"] == "1")
        #expect(row["total_successful_referral_revenue"] == "12.34")
        let rejected = try files.csv("rejected_rows.csv")
        let mismatch = try #require(rejected.first { $0["table"] == "referral_orders" })
        #expect(mismatch["key"] == foreignOrder)
        #expect(mismatch["reason"] == "currency_mismatch")
        #expect(mismatch["detail"] == "currency \(currency) is not the shop currency USD")
        let lateRejection = try #require(rejected.first { $0["table"] == "referral_rejections" })
        #expect(lateRejection["key"] == foreignReferral)
        #expect(try files.csv("changes.csv").allSatisfy { $0["customer_id"] == customer && $0["outcome"] == "synced" })

        // Attentive got the same bytes (the phone is not E.164, so only the email identifies the user).
        let profile = try #require(harness.simulator.profile(email: email))
        #expect(profile.phone == nil)
        #expect(profile.attributes["Okendo Referral Shareable Link"] == link)

        // The input tables are byte for byte as they were, and no table or function appeared or disappeared;
        // only the job's own tables gained their rows (one run, one ledger row).
        let after = try Self.snapshot(harness.database)
        let inputOnly = { (lines: [String]) in lines.filter { !$0.hasPrefix("referral_sync_") } }
        #expect(inputOnly(after) == inputOnly(before))
        #expect(after.filter { $0.hasPrefix("referral_sync_ledger ") } == ["referral_sync_ledger 1"])
        #expect(after.filter { $0.hasPrefix("referral_sync_runs ") } == ["referral_sync_runs 1"])
        #expect(after.count == before.count)
    }

    @Test func aNULCannotEnterTheLandingZone() async throws {
        let harness = try await JobHarness()
        let connection = try harness.database.connect()
        defer { connection.close() }
        // A parameter with a NUL is refused before anything is sent (libpq would cut it at the NUL).
        let refused = #expect(throws: PostgresError.self) {
            try connection.execute(
                "INSERT INTO customers (customer_id, email) VALUES ($1, $2)", ["c1", "nul\u{0}@example.com"])
        }
        #expect(refused?.sqlState == "22021")
        // COPY, the bulk loader, sends the byte and the server refuses the whole load.
        let copied = #expect(throws: PostgresError.self) {
            try connection.copyIn(
                "COPY customers (customer_id, email) FROM STDIN", rows: [["c2", "ok@example.com"], ["c3", "a\u{0}b"]])
        }
        #expect(copied?.message.contains("0x00") == true)
        #expect(try harness.database.query("SELECT count(*) FROM customers").first?.int(0) == 0)

        let (status, reports) = await harness.run(["--currency", "USD"])
        #expect(status == .success)
        #expect(try #require(reports).csv("attributes.csv").isEmpty)
    }
}
