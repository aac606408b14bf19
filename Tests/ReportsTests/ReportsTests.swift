import Foundation
import Testing

@testable import Reports

@Suite struct CSVWriterTests {
    func temporaryPath() -> String { NSTemporaryDirectory() + "/csv-\(UUID().uuidString).csv" }

    @Test func quotesCommasQuotesAndLineBreaks() throws {
        let path = temporaryPath()
        let writer = try CSVWriter(path: path, header: ["a", "b"])
        writer.write(["x,y", "say \"hi\""])
        writer.write(["line\nbreak", nil])
        try writer.close()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text == "a,b\r\n\"x,y\",\"say \"\"hi\"\"\"\r\n\"line\nbreak\",\r\n")
        #expect(CSVReader.parse(text) == [["a", "b"], ["x,y", "say \"hi\""], ["line\nbreak", ""]])
        #expect(writer.rowCount == 2)
    }

    @Test func guardsFormulasButNotNumbersOrPhones() {
        #expect(CSVWriter.escape("=HYPERLINK(\"x\")") == "\"'=HYPERLINK(\"\"x\"\")\"")
        #expect(CSVWriter.escape("@SUM(A1)") == "'@SUM(A1)")
        #expect(CSVWriter.escape("+15551234567") == "+15551234567")
        #expect(CSVWriter.escape("-12.50") == "-12.50")
        #expect(CSVWriter.escape("-cmd|x") == "'-cmd|x")
    }

    @Test func quotesSeparatorsEvenInsideGraphemeClusters() {
        // A CRLF pair and a comma followed by a combining accent are single Characters in Swift; the bytes still
        // end a line or a field in a CSV reader, so the field must be quoted.
        #expect(CSVWriter.escape("a\r\nb") == "\"a\r\nb\"")
        #expect(CSVWriter.escape("a,\u{0301}b") == "\"a,\u{0301}b\"")
        #expect(CSVWriter.escape("zoë.müller@example.de") == "zoë.müller@example.de")
        #expect(CSVWriter.escape("") == "")
    }
}

@Suite struct MarkdownTableTests {
    @Test func rendersAlignedTableWithEscapedPipes() {
        let table = MarkdownTable(header: ["Name", "Count"], rows: [["a|b", "3"]], rightAligned: [1])
        #expect(table.render() == "| Name | Count |\n| --- | ---: |\n| a\\|b | 3 |\n")
    }
}

@Suite struct ReportFolderTests {
    @Test func folderAppearsOnlyWhenPublishedAndLatestFollows() throws {
        let root = NSTemporaryDirectory() + "/reports-\(UUID().uuidString)"
        let first = try ReportFolder(root: root, runID: "20240101T000000Z-aaaa")
        try writeTextFile("one", to: first.path("summary.md"))
        #expect(!FileManager.default.fileExists(atPath: first.publishedPath))
        try first.publish()
        #expect(try String(contentsOfFile: root + "/latest/summary.md", encoding: .utf8) == "one")

        let second = try ReportFolder(root: root, runID: "20240102T000000Z-bbbb")
        try writeTextFile("two", to: second.path("summary.md"))
        // Not yet published: latest still shows the complete first run.
        #expect(try String(contentsOfFile: root + "/latest/summary.md", encoding: .utf8) == "one")
        try second.publish()
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/latest") == "20240102T000000Z-bbbb")
    }

    @Test func pruneKeepsNewestRuns() throws {
        let root = NSTemporaryDirectory() + "/reports-\(UUID().uuidString)"
        for day in 1...4 {
            let folder = try ReportFolder(root: root, runID: "2024010\(day)T000000Z-0000")
            try folder.publish()
            folder.prune(keep: 2)
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: root).sorted()
        #expect(names == ["20240103T000000Z-0000", "20240104T000000Z-0000", "latest"])
    }
}
