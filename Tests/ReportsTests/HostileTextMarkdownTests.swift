import Foundation
import Reports
import TestSupport
import Testing

/// `MarkdownText.escape` against cmark-gfm (Debian's, installed by `make test`), with every extension GitHub uses:
/// each hostile string in a table cell renders as that text, in one cell, with no markup node.
@Suite struct HostileTextMarkdownTests {
    static let corpus: [String] = [
        "=1+2", "@SUM(A1)", "+cmd|' /C calc'!A0", "-2+3", "\u{202E}gnp.exe", "a\u{2066}b\u{2069}c", "zero\u{200B}width",
        "e\u{0301}", "😀😀😀", "<script>alert(1)</script>", "<b>bold</b>", "[link](https://evil.example)",
        "![img](https://evil.example/x.png)", "https://evil.example/x", "www.evil.example", "mallory@evil.example",
        "<https://evil.example>", "a|b|c", "`code`", "``", "*em* **strong** _em_ __strong__", "~~gone~~",
        "line\nbreak", "lone\rcr", "crlf\r\nend", "\"quotes\" 'single' \\backslash\\", "$1 $& \\1",
        "&amp; &#x202E; &lt;",
        "# heading", "> quote", "- item", "1. item", "|", "\\|", "too_old", "_start", "end_", "a\u{0007}bell",
        String(repeating: "x", count: 100_000),
    ]

    @Test func everyCorpusEntryRendersAsTextInOneCell() async throws {
        let cmark = "/usr/bin/cmark-gfm"
        try #require(FileManager.default.isExecutableFile(atPath: cmark), "make test-deps installs cmark-gfm")
        var markdown = "| n | text |\n| --- | --- |\n"
        for (index, entry) in Self.corpus.enumerated() { markdown += "| \(index) | \(MarkdownText.escape(entry)) |\n" }
        let folder = NSTemporaryDirectory() + "md-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try markdown.write(toFile: folder + "/t.md", atomically: true, encoding: .utf8)
        let rendered = try await ChildProcess.run(
            cmark,
            ["-e", "table", "-e", "autolink", "-e", "strikethrough", "-e", "tagfilter", "-t", "xml", folder + "/t.md"])
        #expect(rendered.status == 0)
        let xml = rendered.output
        // One row per entry (plus the header), two cells each.
        #expect(xml.components(separatedBy: "<table_row").count - 1 == Self.corpus.count)
        #expect(xml.components(separatedBy: "<table_cell").count - 1 == 2 * (Self.corpus.count + 1))
        for node in ["<link", "<image", "<html_inline", "<html_block", "<emph", "<strong", "<strikethrough"] {
            #expect(!xml.contains(node), "\(node) rendered from data")
        }
        // The text comes back: the cells' text is the entry, with line breaks as spaces and hidden characters as
        // markers (compared for entries without XML-special characters).
        for entry in ["too_old", "https://evil.example/x", "www.evil.example", "*em* **strong** _em_ __strong__"] {
            #expect(xml.contains(">" + entry + "<"), "\(entry)")
        }
        // Text with an `@` is a code span of exactly that text: the only code nodes.
        #expect(xml.contains("<code xml:space=\"preserve\">mallory@evil.example</code>"))
        #expect(xml.components(separatedBy: "<code").count - 1 == Self.corpus.filter { $0.contains("@") }.count)
        #expect(xml.contains("{U+202E}gnp.exe"))
        #expect(!xml.unicodeScalars.contains { OutboundText.isBidiControl($0) })
    }

    @Test func identifiersAndPlainTextStayReadable() {
        #expect(MarkdownText.escape("not_first_order_of_referral") == "not_first_order_of_referral")
        #expect(MarkdownText.escape("2025-01-10T12:00:00.000Z") == "2025-01-10T12:00:00.000Z")
        #expect(MarkdownText.escape("42.00 USD") == "42.00 USD")
        #expect(MarkdownText.escape("https://x") == "https\\://x")
        #expect(OutboundText.visible("a\u{202E}b") == "a{U+202E}b")
        #expect(OutboundText.visible("plain") == "plain")
    }
}

/// CSV cells: hidden characters made visible, formulas guarded, and a standard parser (Python's csv) reads back the
/// same rows and columns for every corpus entry.
@Suite struct HostileTextCSVTests {
    @Test func everyCorpusEntryParsesBackIntoItsCell() async throws {
        let path = NSTemporaryDirectory() + "hostile-\(UUID().uuidString).csv"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try CSVWriter(path: path, header: ["n", "text", "after"])
        for (index, entry) in HostileTextMarkdownTests.corpus.enumerated() {
            writer.write([String(index), entry, "end"])
        }
        try writer.close()
        let parsed = try await ChildProcess.run(
            "/usr/bin/python3",
            [
                "-c",
                "import csv, json, sys; rows = list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8')));"
                    + " print(json.dumps(rows))",
                path,
            ])
        #expect(parsed.status == 0, "\(parsed.output)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(parsed.output.utf8)) as? [[String]])
        #expect(rows.count == HostileTextMarkdownTests.corpus.count + 1)
        #expect(rows.allSatisfy { $0.count == 3 && ($0[2] == "end" || $0[2] == "after") })
        for (index, entry) in HostileTextMarkdownTests.corpus.enumerated() {
            let cell = rows[index + 1][1]
            #expect(!cell.unicodeScalars.contains { OutboundText.isHidden($0) && $0 != "\r" && $0 != "\n" })
            let expected = OutboundText.visible(entry)
            #expect(cell == expected || cell == "'" + expected, "\(index)")
        }
        #expect(rows[5][1] == "{U+202E}gnp.exe")
        #expect(rows[1][1] == "'=1+2")
    }
}
