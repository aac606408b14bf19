import Foundation
import Postgres
import ReferralSyncCLI
import ReferralSyncJob
import TestSupport
import Testing

/// `referral-sync forget`: a referrer and a recipient erased from every table and kept report, never sent again,
/// listed as `forgotten`, their amounts kept anonymous (README "Personal data").
@Suite("Forget: a person erased and suppressed")
struct ForgetTests {
    /// Zelda refers Yorick (both participants, attributes and events delivered); Kim stays.
    static let history = """
        INSERT INTO customers VALUES
          ('c1', ' Zelda@Example.com ', '(415) 555-0101', 'Zelda', 'Quixote', 'en-US', 'https://shop/r/zelda',
           '2025-01-10T10:00:00Z'),
          ('c2', 'yorick@example.com', '(415) 555-0102', 'Yorick', 'Vantablack', 'fr-FR', 'https://shop/r/yorick',
           '2025-01-10T10:30:00Z'),
          ('c3', 'kim@example.com', NULL, 'Kim', 'Stays', NULL, 'https://shop/r/kim', '2025-01-10T10:00:00Z');
        INSERT INTO referrals VALUES
          ('r1', 'c1', 'yorick@example.com', 'c2', 'Email', '2025-01-10T12:00:00Z'),
          ('r2', 'c3', 'other@example.com', NULL, 'link', '2025-01-10T12:10:00Z'),
          ('r4', 'c2', 'Yorick@example.com', NULL, 'Email', '2025-01-10T12:30:00Z');
        INSERT INTO referral_orders VALUES
          ('o1', '1001', 'r1', 'FRIEND10', 100.50, 10, 'USD', '2025-01-10T15:00:00Z'),
          ('o3', '1003', 'r1', NULL, 20, 0, 'EUR', '2025-01-10T15:30:00Z'),
          ('o4', '1004', 'r2', NULL, 30, 0, 'USD', '2025-01-10T16:00:00Z');
        INSERT INTO referral_coupons VALUES
          ('FRIEND10', 'r1', 'c2', 'recipient', '10% off', '2025-01-10T12:00:01Z', NULL);
        """

    /// What names Zelda or Yorick, lower-cased.
    static let needles = [
        "zelda", "quixote", "yorick", "vantablack", "555-0101", "4155550101", "555-0102", "4155550102",
    ]

    func command(_ harness: JobHarness, _ arguments: [String], environment extra: [String: String] = [:]) async
        -> ReferralSyncJob.ExitStatus
    {
        await ReferralSyncCommand.main(
            arguments: [
                arguments[0], "--reports-dir", harness.reportsDirectory, "--currency", "USD",
                "--default-phone-region", "US",
            ] + arguments.dropFirst(),
            environment: harness.environment.merging(extra) { $1 }.merging(Self.verbose) { $1 }, output: { _ in })
    }

    /// Debug lines too, while a test reads the logs (`ReferralSyncCommand.logOutput`).
    static var verbose: [String: String] {
        ReferralSyncCommand.logOutput == nil ? [:] : ["REFERRAL_SYNC_QUIET": "0", "REFERRAL_SYNC_VERBOSE": "1"]
    }

    /// Every `table.column` of the store's `referral_sync_` tables holding a needle.
    func tablesNaming(_ harness: JobHarness) throws -> [String] {
        let connection = try harness.database.connect()
        defer { connection.close() }
        let patterns = PostgresArray.literal(Self.needles.map { Optional("%" + $0 + "%") })
        var found: [String] = []
        for column in try connection.query(
            """
            SELECT c.table_name, c.column_name FROM information_schema.columns c
            JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
            WHERE c.table_schema = current_schema() AND c.table_name LIKE 'referral\\_sync\\_%'
              AND t.table_type = 'BASE TABLE' AND c.data_type IN ('text', 'jsonb', 'character varying')
            """)
        {
            let (table, name) = (column[0] ?? "", column[1] ?? "")
            let hits = try connection.query(
                "SELECT 1 FROM \(table) WHERE \"\(name)\"::text ILIKE ANY ($1::text[]) LIMIT 1", [patterns])
            if !hits.isEmpty { found.append("\(table).\(name)") }
        }
        return found
    }

    /// Every report file (path) holding a needle.
    func filesNaming(_ harness: JobHarness) throws -> [String] {
        let root = harness.reportsDirectory
        return try FileManager.default.subpathsOfDirectory(atPath: root).filter { path in
            guard let data = FileManager.default.contents(atPath: root + "/" + path) else { return false }
            let text = String(decoding: data, as: UTF8.self).lowercased()
            return Self.needles.contains { text.contains($0) }
        }
    }

    @Test("a referrer and a recipient are erased everywhere, sent nothing after, listed as forgotten")
    func forgetReferrerAndRecipient() async throws {
        let harness = try await JobHarness()
        try harness.database.run(Self.history)
        let asOf = "2025-01-10T20:00:00Z"
        #expect(await command(harness, ["run", "--as-of", asOf]) == .success)
        #expect(await command(harness, ["events", "--as-of", asOf]) == .success)
        let delivered = harness.simulator.acceptedEvents().count
        #expect(delivered > 0)
        // A new invitation Attentive cannot take yet: pending (failed) in the ledger, in a third folder.
        try harness.database.run(
            "INSERT INTO referrals VALUES ('r5', 'c1', 'yorick@example.com', 'c2', 'Email', '2025-01-10T20:30:00Z')")
        let unreachable = await command(
            harness, ["events", "--as-of", "2025-01-10T21:00:00Z"],
            environment: ["ATTENTIVE_BASE_URL": "http://127.0.0.1:9", "REFERRAL_SYNC_MAX_ATTEMPTS": "1"])
        #expect(unreachable != .success)
        let unsent = try harness.database.query(
            "SELECT count(*) FROM referral_sync_events WHERE state IN ('pending', 'failed', 'in_flight')")
        #expect(unsent.first?.int(0) ?? 0 > 0)
        #expect(try !tablesNaming(harness).isEmpty)
        #expect(try !filesNaming(harness).isEmpty)
        let folders = try FileManager.default.contentsOfDirectory(atPath: harness.reportsDirectory)
        #expect(folders.filter { $0 != "latest" }.count == 3)

        #expect(await command(harness, ["forget", "c1", "YORICK@example.com"]) == .success)
        // Every log line written from here on, at the most verbose level, is read too.
        let logs = CapturedText()
        try await ReferralSyncCommand.$logOutput.withValue({ logs.append($0) }) {
            try await afterTheErasure(harness, delivered: delivered, logs: logs)
        }
    }

    /// What `forgetReferrerAndRecipient` checks once the people are forgotten, with every log line captured.
    func afterTheErasure(_ harness: JobHarness, delivered: Int, logs: CapturedText) async throws {

        #expect(try tablesNaming(harness) == [])
        #expect(try filesNaming(harness) == [])
        let audit = try harness.database.query(
            """
            SELECT outcome_counts->>'identities', outcome_counts->>'role' = current_user, arguments
            FROM referral_sync_runs WHERE command = 'forget'
            """)
        #expect(audit.first?[0] == "4")
        #expect(audit.first?.bool(1) == true)
        let arguments = (audit.first?[2] ?? "").lowercased()
        #expect(!arguments.contains("yorick"))

        // The input tables still hold them, and change: nothing is sent for them, each is listed as forgotten.
        try harness.database.run(
            """
            INSERT INTO referral_orders VALUES ('o9', '1009', 'r1', NULL, 5, 0, 'USD', '2025-01-11T09:00:00Z');
            INSERT INTO referral_coupons VALUES ('LATE5', 'r1', 'c2', 'recipient', NULL, '2025-01-11T09:00:01Z', NULL);
            """)
        let later = "2025-01-11T10:00:00Z"
        let (runStatus, reports) = await harness.run(
            ["--as-of", later, "--currency", "USD", "--default-phone-region", "US"], environment: Self.verbose)
        #expect(runStatus == .success)
        let rejected = try #require(reports).csv("rejected_rows.csv")
        #expect(Set(rejected.filter { $0["reason"] == "forgotten" }.map { $0["key"] ?? "" }) == ["c1", "c2"])
        #expect(try #require(reports).csv("changes.csv").allSatisfy { $0["customer_id"] == "c3" })
        #expect(
            harness.simulator.profile(email: "zelda@example.com")?.attributes["Okendo Number of Successful Referrals"]
                == "1")

        #expect(await command(harness, ["events", "--as-of", later]) == .success)
        #expect(harness.simulator.acceptedEvents().count == delivered)
        let events = try ReportFiles(path: harness.reportsDirectory + "/latest").csv("events.csv")
        #expect(events.contains { $0["outcome"] == "skipped" && $0["error"] == "forgotten" })
        #expect(events.allSatisfy { $0["outcome"] != "delivered" })

        // Their amounts stay, anonymous: the revenue report still reconciles.
        #expect(await command(harness, ["revenue", "--as-of", later]) == .success)
        let kept = try harness.database.query(
            "SELECT sum(total_price)::text FROM referral_sync_revenue_kept_lines WHERE referrer_id = 'c1'")
        #expect(kept.first?[0] == "100.50")

        #expect(try tablesNaming(harness) == [])
        #expect(try filesNaming(harness) == [])
        // explain treats them as absent.
        let explained = await ReferralSyncCommand.main(
            arguments: ["explain", "c1", "--as-of", later, "--currency", "USD", "--default-phone-region", "US"],
            environment: harness.environment.merging(Self.verbose) { $1 }, output: { _ in })
        #expect(explained == .dataError)
        // Verbose logs of everything after the erasure name no one either; and they were written.
        let written = logs.text.lowercased()
        #expect(written.contains("run finished"))
        #expect(written.contains("events finished"))
        #expect(Self.needles.filter { written.contains($0) } == [])
    }

    @Test("a person who matches no one exits 65 and erases nothing")
    func unknownPerson() async throws {
        let harness = try await JobHarness()
        try harness.database.run(Self.history)
        #expect(await command(harness, ["forget", "c1", "nobody@example.com"]) == .dataError)
        let suppressed = try harness.database.query("SELECT count(*) FROM referral_sync_forgotten")
        #expect(suppressed.first?.int(0) == 0)
    }
}
