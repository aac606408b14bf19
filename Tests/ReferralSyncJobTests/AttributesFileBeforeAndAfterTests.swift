import Foundation
import TestSupport
import Testing

@testable import ReferralSyncCLI
@testable import ReferralSyncJob

/// `attributes.csv` is a public report: its columns, row order and escaping stay byte for byte what they were
/// when every participant went through the participant loop (issue 27 writes it from its own query). The files
/// of `Fixtures/attributes-a37f7e3/` were written by the job at a37f7e3 from the same data: the acceptance-sized
/// fuzz histories of ``FuzzTests``' seeds, the rows the fuzz data never makes, and values a spreadsheet would read
/// as formulas or that need quoting.
///
/// `REFERRAL_SYNC_RECORD_FIXTURES=1` writes the files instead of comparing (and fails, so a recording never passes
/// as a test).
@Suite struct AttributesFileBeforeAndAfterTests {
    static let fixtures = repositoryRoot + "/Tests/ReferralSyncJobTests/Fixtures/attributes-a37f7e3"

    /// Values that need the CSV rules: quotes, commas, line breaks, a formula's first character, hidden characters.
    static let awkward = """
        INSERT INTO customers (customer_id, email, phone, shareable_link, opted_in_at) VALUES
            ('=1+1', '"quoted",comma@example.com', '+1 (415) 555-0100', 'https://shop.example/r?a=1,b=2', '2024-01-01Z'),
            ('@cmd', 'line' || chr(10) || 'break@example.com', '-5', '=HYPERLINK("http://x")', '2024-01-01Z'),
            ('tab' || chr(9), 'ü@exämple.com', NULL, ' leading space', '2024-01-01Z');
        INSERT INTO referrals (referral_id, referrer_id, recipient_email, channel, created_at) VALUES
            ('aw1', '=1+1', 'f1@example.net', 'email', '2024-02-01Z'),
            ('aw2', '@cmd', 'f2@example.net', 'email', '2024-02-01Z');
        INSERT INTO referral_orders (order_id, referral_id, total_price, discount_amount, currency, redeemed_at) VALUES
            ('awo1', 'aw1', 12.345, 0, 'USD', '2024-02-02Z'), ('awo2', 'aw2', 0.005, 0, 'USD', '2024-02-02Z');
        """

    @Test(arguments: [UInt64(20_241_108), 7, 1_234_567])
    func attributesCSVIsByteForByteWhatItWas(seed: UInt64) async throws {
        let harness = try await JobHarness()
        try FuzzTests.load(FuzzHistory(seed: seed), into: harness.database)
        try harness.database.run(RefreshBeforeAndAfterTests.rarities)
        try harness.database.run(Self.awkward)
        let (status, reports) = await harness.run([
            "--dry-run", "--currency", "USD", "--default-phone-region", "US",
            "--as-of", FuzzExpectations.iso(FuzzHistory.asOf),
        ])
        #expect(status == .needsAttention || status == .success)
        let files = try #require(reports)
        let written = try Data(contentsOf: URL(fileURLWithPath: files.path + "/attributes.csv"))
        let fixture = Self.fixtures + "/seed-\(seed).csv"
        if ProcessInfo.processInfo.environment["REFERRAL_SYNC_RECORD_FIXTURES"] == "1" {
            try written.write(to: URL(fileURLWithPath: fixture))
            Issue.record("recorded \(fixture): not a test run")
            return
        }
        let expected = try Data(contentsOf: URL(fileURLWithPath: fixture))
        #expect(written.count > 10_000)
        #expect(written == expected, "attributes.csv differs from \(fixture)")
    }
}
