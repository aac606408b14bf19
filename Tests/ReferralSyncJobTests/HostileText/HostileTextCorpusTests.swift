import AttentiveSimulator
import Foundation
import Reports
import TestSupport
import Testing

@testable import ReferralSyncCLI
@testable import ReferralSyncJob

/// Issue 16's one test: every corpus entry in every text column of the input tables, then `run`, `drift`,
/// `events`, `revenue` and `explain` against the real database and the simulator, and every output checked: CSV
/// parses with Python's csv into rows of one width, Markdown parses with cmark-gfm with no link, image or HTML node
/// from the data, metrics pass promtool, every request body parses and carries no bidirectional control, and
/// every input row is accounted for.
@Suite(.serialized) struct HostileTextCorpusTests {
    /// The corpus (the same entries as Tests/ReportsTests' Markdown and CSV tests, as data).
    static let corpus: [String] = [
        "=1+2", "@SUM(A1)", "+cmd|' /C calc'!A0", "-2+3", "\u{202E}gnp.exe", "a\u{2066}b\u{2069}c", "zero\u{200B}width",
        "e\u{0301}", "😀😀😀", "<script>alert(1)</script>", "[link](https://evil.example)",
        "![img](https://evil.example/x.png)", "https://evil.example/x", "www.evil.example", "mallory@evil.example",
        "a|b|c", "`code`", "*em* _em_", "line\nbreak", "lone\rcr", "\"q\" 'q' \\b\\", "$1", "&amp; &#x202E;",
        String(repeating: "x", count: 64) + "@example.com", String(repeating: "x", count: 65) + "@example.com",
        String(repeating: "y", count: 1025), String(repeating: "z", count: 100_000),
        // RFC 5321's other bounds, each side: 254 and 255 characters in all, a domain label of 63 and 64.
        String(repeating: "l", count: 64) + "@" + labels63 + String(repeating: "d", count: 57) + ".com",
        String(repeating: "l", count: 64) + "@" + labels63 + String(repeating: "d", count: 58) + ".com",
        "label@" + String(repeating: "d", count: 63) + ".example",
        "label@" + String(repeating: "d", count: 64) + ".example",
        // Sent with a usable phone (``phone(_:_:)``), so what the rules refuse or flag goes out beside it.
        String(repeating: "x", count: 300) + "@example.com",
        "https://shop.example/r/" + String(repeating: "a", count: 5_000 - 23), String(repeating: "w", count: 1_024),
    ]

    /// Two domain labels of 63 characters, each with its dot: with them an address reaches 254 characters.
    static let labels63 = String(repeating: String(repeating: "d", count: 63) + ".", count: 2)

    /// The first entry sent with a usable phone whatever its position.
    static let firstWithUsablePhone = 31

    /// An entry's phone: a usable one for every other entry and the last ones, the entry itself otherwise.
    static func phone(_ index: Int, _ entry: String) -> String {
        index % 2 == 0 || index >= firstWithUsablePhone ? "+1415555\(String(format: "%04d", index))" : entry
    }

    /// Keys are indexed: at most 200 characters of an entry, after its number.
    static func key(_ index: Int, _ entry: String) -> String { "\(index)-" + String(entry.prefix(200)) }

    static func load(_ database: TestDatabase) throws {
        let connection = try database.connect()
        defer { connection.close() }
        for (index, entry) in corpus.enumerated() {
            let customer = key(index, entry)
            let friend = "f" + customer
            let referral = "r" + customer
            let order = "o" + customer
            try connection.execute(
                """
                INSERT INTO customers (customer_id, email, phone, first_name, last_name, locale, shareable_link,
                                       opted_in_at)
                VALUES ($1, $2, $3, $2, $2, $2, $2, '2024-12-31T20:00:00Z'),
                       ($4, 'friend' || $5 || '@example.com', NULL, $2, $2, $2, NULL, NULL)
                """,
                [
                    customer, entry, phone(index, entry), friend, String(index),
                ])
            try connection.execute(
                """
                INSERT INTO referrals (referral_id, referrer_id, recipient_email, recipient_customer_id, channel,
                                       created_at)
                VALUES ($1, $2, $3, $4, CASE WHEN $5::integer % 3 = 0 THEN $3 ELSE 'email' END,
                        '2024-12-31T21:00:00Z')
                """, [referral, customer, entry, friend, String(index)])
            try connection.execute(
                """
                INSERT INTO referral_orders (order_id, order_number, referral_id, coupon_code, total_price,
                                             discount_amount, currency, redeemed_at)
                VALUES ($1, $2, $3, $2, 10.5, 1, CASE WHEN $4::integer % 5 = 0 THEN left($2, 3) ELSE 'USD' END,
                        '2024-12-31T22:00:00Z')
                """, [order, entry, referral, String(index)])
            try connection.execute(
                """
                INSERT INTO referral_coupons (coupon_code, referral_id, customer_id, role, description, issued_at)
                VALUES ($1, $2, $3, CASE WHEN $4::integer % 4 = 0 THEN $5 ELSE 'recipient' END, $5,
                        '2024-12-31T21:00:01Z')
                """, ["c" + customer, referral, friend, String(index), entry])
            if index % 2 == 1 {
                try connection.execute(
                    """
                    INSERT INTO referral_rejections (referral_id, rejection_type, reason, rejected_at)
                    VALUES ($1, $2, $2, '2024-12-31T23:00:00Z')
                    """, [referral, entry])
            }
        }
    }

    static let asOf = "2025-01-01T00:00:00Z"

    @Test func everyOutputOfEveryCommandStaysItsOwnShape() async throws {
        let harness = try await JobHarness()
        try Self.load(harness.database)
        let shop = ["REFERRAL_SHOP_CURRENCY": "USD"]
        let reports = harness.reportsDirectory

        func command(_ arguments: [String]) async -> (ReferralSyncJob.ExitStatus, String) {
            let output = CapturedText()
            let status = await ReferralSyncCommand.main(
                arguments: arguments, environment: harness.environment.merging(shop) { $1 },
                output: { output.append($0) })
            return (status, output.text)
        }

        let commands: [(String, [String])] = [
            ("run", ["run", "--as-of", Self.asOf]), ("drift", ["drift", "--as-of", Self.asOf]),
            ("events", ["events", "--as-of", Self.asOf, "--backfill"]),
            ("revenue", ["revenue", "--as-of", Self.asOf]),
        ]
        let finished: [ReferralSyncJob.ExitStatus] = [.success, .needsAttention]
        for (name, arguments) in commands {
            let metrics = reports + "/\(name).prom"
            let (status, _) = await command(
                arguments + ["--reports-dir", reports + "/" + name, "--metrics-file", metrics])
            #expect(finished.contains(status), "\(name) exited \(status)")
            let check = try await MetricsFileTests.promtool(metrics)
            #expect(check.status == 0, "\(name) metrics: \(check.output)")
            let folder = reports + "/" + name + "/latest"
            for file in try FileManager.default.contentsOfDirectory(atPath: folder) {
                if file.hasSuffix(".csv") { try await Self.checkCSV(folder + "/" + file) }
                if file.hasSuffix(".md") {
                    try await Self.checkMarkdown(
                        try String(contentsOfFile: folder + "/" + file, encoding: .utf8), "\(name)/\(file)")
                }
            }
            if let summary = try? String(contentsOfFile: folder + "/summary.md", encoding: .utf8) {
                #expect(!summary.contains("unaccounted"), "\(name): rows unaccounted for")
            }
        }

        try await Self.checkWarnings(reports + "/run/latest")
        // Nothing refused or flagged fails: a second run exits 0 and sends nothing.
        let requests = harness.simulator.statistics().requests
        let (again, _) = await command(["run", "--as-of", Self.asOf, "--reports-dir", reports + "/run"])
        #expect(again == .success)
        #expect(harness.simulator.statistics().requests == requests)

        // explain, for every hostile customer, in every format.
        for (index, entry) in Self.corpus.enumerated() {
            let customer = Self.key(index, entry)
            let (markdownStatus, markdown) = await command(["explain", customer, "--as-of", Self.asOf])
            #expect(markdownStatus == .success, "explain \(index)")
            try await Self.checkMarkdown(markdown, "explain \(index)")
            let (_, json) = await command(["explain", customer, "--as-of", Self.asOf, "--format", "json"])
            #expect((try? JSONSerialization.jsonObject(with: Data(json.utf8))) != nil, "explain json \(index)")
            let (_, csv) = await command(["explain", customer, "--as-of", Self.asOf, "--format", "csv"])
            let path = reports + "/explain-\(index).csv"
            try csv.write(toFile: path, atomically: true, encoding: .utf8)
            try await Self.checkCSV(path)
        }

        // What reached Attentive: every body parses, and no bidirectional control is in any of them.
        for text in harness.simulator.acceptedEvents() {
            #expect((try? JSONSerialization.jsonObject(with: Data(text.utf8))) != nil)
            #expect(!text.unicodeScalars.contains { OutboundText.isBidiControl($0) }, "an event carries a bidi control")
        }
        for profile in harness.simulator.profiles() {
            for (name, value) in profile.attributes {
                #expect(
                    !value.unicodeScalars.contains { OutboundText.isBidiControl($0) }, "\(name) carries a bidi control")
            }
        }
    }

    /// The run's `warnings.csv` and summary: the 300-character local part sent by phone with its reason, the
    /// 5,000-character link warned about and the 1,024-character one not, the right-to-left override removed, each
    /// counted in the summary; and the run exited 0.
    static func checkWarnings(_ folder: String) async throws {
        let reports = ReportFiles(path: folder)
        let warnings = try reports.csv("warnings.csv")
        // The CSV shows hidden characters as markers, keys included.
        func listed(_ index: Int) -> String { OutboundText.visible(key(index, corpus[index])) }
        func reasons(_ index: Int) -> [String] {
            warnings.filter { $0["key"] == listed(index) }.compactMap { $0["reason"] }
        }
        // At each bound: 254 characters and a label of 63 are usable addresses (their phones, the entries
        // themselves, are not); 255 and 64 are refused, and their phones carry them.
        #expect(reasons(27) == ["phone_not_usable"])
        #expect(reasons(28) == ["email_not_usable"])
        #expect(warnings.first { $0["key"] == listed(28) }?["detail"]?.contains("255 characters") == true)
        #expect(reasons(29) == ["phone_not_usable"])
        #expect(reasons(30) == ["email_not_usable"])
        #expect(reasons(31) == ["email_not_usable"])
        #expect(
            warnings.first { $0["key"] == listed(31) }?["detail"]?
                .contains("the part before the @ is 300 characters, RFC 5321 allows 64") == true)
        #expect(reasons(32) == ["email_not_usable", "link_too_long"])
        #expect(reasons(33) == ["email_not_usable"])
        #expect(reasons(4).contains("link_cleaned"))
        let summary = try reports.text("summary.md")
        #expect(summary.contains("**exit 0**"))
        for code in ["email_not_usable", "phone_not_usable", "link_too_long", "link_cleaned"] {
            let rows = warnings.filter { $0["reason"] == code }.count
            #expect(OutboundWarningTests.summaryCount(summary, code) == rows, "\(code) in summary.md")
        }
    }

    /// Parses `path` with Python's csv module: every row as wide as the header.
    static func checkCSV(_ path: String) async throws {
        let script = """
            import csv, sys
            rows = list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8')))
            widths = {len(r) for r in rows}
            print(len(rows), sorted(widths))
            sys.exit(0 if len(widths) <= 1 else 1)
            """
        let result = try await ChildProcess.run("/usr/bin/python3", ["-c", script, path])
        #expect(result.status == 0, "\(path): \(result.output)")
    }

    /// Parses `markdown` with cmark-gfm: no link or image to the data's addresses, no HTML node.
    static func checkMarkdown(_ markdown: String, _ label: String) async throws {
        let path = NSTemporaryDirectory() + "hostile-\(UUID().uuidString).md"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try markdown.write(toFile: path, atomically: true, encoding: .utf8)
        let xml = try await ChildProcess.run(
            "/usr/bin/cmark-gfm",
            ["-e", "table", "-e", "autolink", "-e", "strikethrough", "-e", "tagfilter", "-t", "xml", path])
        #expect(xml.status == 0, "\(label)")
        #expect(!xml.output.contains("<html_inline") && !xml.output.contains("<html_block"), "\(label): HTML")
        #expect(!xml.output.contains("destination=\"https://evil"), "\(label): a link from the data")
        #expect(!xml.output.contains("destination=\"mailto:mallory"), "\(label): an email link from the data")
        #expect(!xml.output.contains("destination=\"http://www.evil"), "\(label): a www link from the data")
        #expect(!xml.output.unicodeScalars.contains { OutboundText.isBidiControl($0) }, "\(label): a bidi control")
    }
}
