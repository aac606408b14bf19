import Foundation
import TestSupport
import Testing

@testable import ReferralSyncCLI
@testable import ReferralSyncJob

/// "Every input row either counts, or is listed in rejected_rows.csv": per table, the rows the test itself counts
/// in the database equal counted + not participants + rejected, where rejected comes from rejected_rows.csv and
/// counted is checked against what attributes.csv shows.
@Suite struct RowAccountingTests {
    /// Data with every kind of row: good ones, every rejection reason, and customers who are not participants.
    static func messyHistory() -> ReferralHistory {
        var history = ReferralHistory()
        history.customer(.init("good", email: "good@example.com"))
        history.customer(.init("dup-a", email: "Same@example.com"))
        history.customer(.init("dup-b", email: "same@EXAMPLE.com "))
        history.customer(.init("ghost", email: nil, phone: "12"))
        history.customer(.init("friend", email: "friend@example.com", optedInAt: nil))
        history.customer(.init("bystander", email: "by@example.com", optedInAt: nil))
        history.customer(.init("late", email: "late@example.com", optedInAt: "2030-01-01T00:00:00Z"))
        history.referral("ok", by: "good")
        history.referral("ok2", by: "ghost")
        history.referral("dup", by: "dup-a")
        history.referral("self-id", by: "good", recipientCustomer: "good")
        history.referral("self-email", by: "good", recipientEmail: " GOOD@example.com")
        history.referral("future", by: "friend", at: "2030-01-01T00:00:00Z")
        history.referral("rejected", by: "good")
        history.referral("late-rejection", by: "good")
        history.referral("no-orders", by: "good")
        history.order("o-ok", for: "ok", total: "10.005")
        history.order("o-ok-second", for: "ok", total: "3", at: "2024-03-09T00:00:00Z")
        history.order("o-ok2", for: "ok2", total: "7")
        history.order("o-dup", for: "dup", total: "1")
        history.order("o-self-id", for: "self-id", total: "1")
        history.order("o-future", for: "future", total: "1", at: "2030-01-02T00:00:00Z")
        history.order("o-after", for: "ok", total: "1", at: "2030-01-02T00:00:00Z")
        history.order("o-negative", for: "no-orders", total: "-1")
        history.order("o-nan", for: "no-orders", total: "NaN")
        history.order("o-cad", for: "no-orders", total: "1", currency: "CAD")
        history.order("o-early", for: "no-orders", total: "1", at: "2024-01-01T00:00:00Z")
        history.order("o-rejected", for: "rejected", total: "5")
        history.order("o-late-rejection", for: "late-rejection", total: "5")
        history.rejection(of: "rejected", at: "2024-02-15T00:00:00Z")
        history.rejection(of: "late-rejection", at: "2030-01-01T00:00:00Z")
        return history
    }

    @Test func rowsReadAreRowsCountedPlusNotParticipantsPlusRejectedPerTable() async throws {
        let harness = try await JobHarness()
        try Self.messyHistory().insert(into: harness.database)

        let (status, reports) = await harness.run(["--currency", "USD", "--as-of", "2025-01-01T00:00:00Z"])
        #expect(status == .success)
        let files = try #require(reports)
        let summary = try SummaryTable.inputRows(try files.text("summary.md"))
        let rejected = try files.csv("rejected_rows.csv")
        let attributes = try files.csv("attributes.csv")

        for table in ["customers", "referrals", "referral_orders", "referral_rejections"] {
            let read = try #require(try harness.database.query("SELECT count(*) FROM \(table)").first?.int(0))
            let row = try #require(summary[table], "summary.md has a row for \(table)")
            let listed = rejected.filter { $0["table"] == table }.count
            #expect(row.read == read, "\(table): summary read \(row.read), the table holds \(read)")
            #expect(row.rejected == listed, "\(table): summary rejected \(row.rejected), listed \(listed)")
            #expect(
                read == row.counted + row.notParticipants + listed,
                "\(table): \(read) read != \(row.counted) counted + \(row.notParticipants) not participants + \(listed) rejected"
            )
        }
        // Counted, checked against what the reports show rather than against the summary's own arithmetic.
        let rejectedCustomers = rejected.filter { $0["table"] == "customers" }.count
        #expect(summary["customers"]?.counted == attributes.count - rejectedCustomers)
        let successful = attributes.compactMap { Int($0["successful_referrals"] ?? "") }.reduce(0, +)
        #expect(summary["referral_orders"]?.counted == successful)
        // o-ok, o-ok2 (its referrer has no usable identity: it still counts), o-dup, and o-late-rejection (its
        // rejection is dated after --as-of).
        #expect(successful == 4)
        // friend (only a referral after --as-of), bystander, late (opted in after --as-of).
        #expect(summary["customers"]?.notParticipants == 3)
        #expect(summary["referral_rejections"]?.counted == 1)
        // Every reason code the data contains, once per row.
        let reasons = Set(rejected.map { $0["reason"] ?? "" })
        #expect(
            reasons == [
                "duplicate_identity", "no_usable_identity", "self_referral_by_customer_id", "self_referral_by_email",
                "created_after_as_of", "not_first_order_of_referral", "referral_not_counted", "redeemed_after_as_of",
                "negative_total", "total_not_finite", "currency_mismatch", "redeemed_before_referral_created",
                "referral_rejected", "rejected_after_as_of",
            ])
        let markdown = try files.text("summary.md")
        #expect(!markdown.contains("unaccounted"))
        // 15.005 rounds once to 15.00 (half to even), plus 7.00 and 1.00.
        #expect(markdown.contains("| Successful referral revenue (all participants) | 23.00 USD |"))
    }
}

/// Reads the "Input rows" table of summary.md.
enum SummaryTable {
    struct Row {
        var read: Int
        var counted: Int
        var notParticipants: Int
        var rejected: Int
    }

    struct Missing: Error {}

    static func inputRows(_ markdown: String) throws -> [String: Row] {
        guard let start = markdown.range(of: "## Input rows") else { throw Missing() }
        var rows: [String: Row] = [:]
        for line in markdown[start.upperBound...].split(separator: "\n") {
            if line.hasPrefix("### ") { break }
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 5, let read = Int(cells[1]), let counted = Int(cells[2]), let rejected = Int(cells[4])
            else { continue }
            rows[cells[0]] = Row(read: read, counted: counted, notParticipants: Int(cells[3]) ?? 0, rejected: rejected)
        }
        return rows
    }
}
