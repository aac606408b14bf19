import Foundation
import Postgres
import TestSupport
import Testing

@testable import ReferralSyncCLI
@testable import ReferralSyncJob

/// Seeded random histories (about 3,500 rows each, every kind of bad row mixed in) run through the job and
/// compared with ``FuzzExpectations``, an independent recomputation: any difference fails.
@Suite struct FuzzTests {
    @Test(arguments: [UInt64(20_241_108), 7, 1_234_567])
    func attributesMatchAnIndependentRecomputation(seed: UInt64) async throws {
        let history = FuzzHistory(seed: seed)
        let expected = FuzzExpectations(history)
        let harness = try await JobHarness()
        try Self.load(history, into: harness.database)

        let (status, reports) = await harness.run([
            "--dry-run", "--currency", "USD", "--default-phone-region", "US",
            "--as-of", FuzzExpectations.iso(FuzzHistory.asOf),
        ])
        #expect(status == .success)
        let files = try #require(reports)

        let rows = try files.csv("attributes.csv")
        let actual = Dictionary(
            rows.map { row in
                (
                    row["customer_id"] ?? "",
                    [
                        row["successful_referrals"] ?? "", row["latest_successful_referral_at"] ?? "",
                        row["total_successful_referral_revenue"] ?? "", row["shareable_link"] ?? "",
                    ]
                )
            }, uniquingKeysWith: { first, _ in first })
        #expect(rows.count == actual.count, "one row per participant")
        #expect(rows.allSatisfy { $0["currency"] == "USD" })
        #expect(Set(actual.keys) == Set(expected.attributes.keys), "the participants")
        let differences = expected.attributes.keys.sorted().filter { actual[$0] != expected.attributes[$0] }
        #expect(
            differences.isEmpty,
            "\(differences.count) participants differ, e.g. \(differences.prefix(5).map { "\($0): job \(actual[$0] ?? []) expected \(expected.attributes[$0] ?? [])" })"
        )

        // Who is not sent, and why it is not a failure.
        let skipped = Set(
            try files.csv("changes.csv").filter { $0["outcome"] == "skipped" }.map { $0["customer_id"] ?? "" })
        #expect(skipped == expected.unsendable)

        // Every row adds up, and counted rows match the recomputation.
        let summary = try SummaryTable.inputRows(try files.text("summary.md"))
        let rejected = try files.csv("rejected_rows.csv")
        let read = [
            "customers": history.customers.count, "referrals": history.referrals.count,
            "referral_orders": history.orders.count, "referral_rejections": history.rejections.count,
        ]
        for (table, count) in read {
            let row = try #require(summary[table])
            let listed = rejected.filter { $0["table"] == table }.count
            #expect(row.read == count, "\(table)")
            #expect(count == row.counted + row.notParticipants + listed, "\(table) adds up")
        }
        #expect(summary["referrals"]?.counted == expected.countedReferrals)
        #expect(summary["referral_orders"]?.counted == expected.countedOrders)
        #expect(summary["customers"]?.counted == expected.attributes.count - expected.unsendable.count)
    }

    /// Loads the history with COPY (fast, and the values travel as data, never as SQL).
    static func load(_ history: FuzzHistory, into database: TestDatabase) throws {
        let connection = try database.connect()
        defer { connection.close() }
        try load(history, on: connection)
    }

    /// Loads the history through `connection`, into the tables its search_path finds.
    static func load(_ history: FuzzHistory, on connection: PostgresConnection) throws {
        try connection.transaction {
            try connection.copyIn(
                "COPY customers (customer_id, email, phone, shareable_link, opted_in_at) FROM STDIN",
                rows: history.customers.map {
                    [$0.id, $0.email, $0.phone, $0.link, $0.optedInAt.map(FuzzExpectations.iso)]
                })
            try connection.copyIn(
                "COPY referrals (referral_id, referrer_id, recipient_email, recipient_customer_id, created_at) FROM STDIN",
                rows: history.referrals.map {
                    [$0.id, $0.referrer, $0.recipientEmail, $0.recipientCustomer, FuzzExpectations.iso($0.createdAt)]
                })
            try connection.copyIn(
                "COPY referral_orders (order_id, referral_id, total_price, currency, redeemed_at) FROM STDIN",
                rows: history.orders.map {
                    [$0.id, $0.referral, $0.totalText, $0.currency, FuzzExpectations.iso($0.redeemedAt)]
                })
            try connection.copyIn(
                "COPY referral_rejections (referral_id, rejected_at) FROM STDIN",
                rows: history.rejections.map { [$0.referral, FuzzExpectations.iso($0.rejectedAt)] })
        }
    }
}
