import Foundation
import TestSupport
import Testing

@testable import ReferralSyncJob

/// How `referral-sync revenue` fits with the rest of the job: its options' exit statuses, the files' formats
/// (GFM tables, guarded CSV cells, an SVG a real renderer draws), the run history, the metrics file, and that it
/// never touches the ledger.
@Suite struct RevenueOutputTests {
    static func hostileRows() -> RevenueRows {
        var rows = RevenueReportTests.threeMonths()
        rows.referral("r9", by: "=cmd|' /C calc'!A0", channel: "=HYPERLINK(\"http://x\")", at: "2025-01-05T00:00:00Z")
        rows.order("o9", for: "r9", total: "7.00", at: "2025-01-09T00:00:00Z")
        return rows
    }

    @Test func anUnknownTimeZoneIsAUsageErrorOrAConfigurationError() async throws {
        let harness = try await JobHarness()
        let option = await harness.revenue(["--currency", "USD", "--timezone", "Mars/Olympus_Mons"])
        #expect(option.status == .usage)
        #expect(option.message.contains("--timezone is 'Mars/Olympus_Mons'"), "\(option.message)")
        let variable = await harness.revenue(
            ["--currency", "USD"], environment: ["REFERRAL_SYNC_TIMEZONE": "Mars/Olympus_Mons"])
        #expect(variable.status == .configuration)
        #expect(variable.message.contains("REFERRAL_SYNC_TIMEZONE is 'Mars/Olympus_Mons'"), "\(variable.message)")
        let malformed = await harness.revenue(["--by", "fortnight"])
        #expect(malformed.status == .usage)
        let backwards = await harness.revenue(["--from", "2025-03", "--to", "2025-01"])
        #expect(backwards.status == .usage)
        #expect(backwards.message.contains("--from 2025-03 is after --to 2025-01"))
    }

    @Test func markdownIsGitHubFlavouredAndCSVCellsAreGuarded() async throws {
        let harness = try await JobHarness()
        try Self.hostileRows().insert(into: harness.database)
        let outcome = await harness.revenue(["--as-of", "2025-03-31T00:00:00Z", "--currency", "USD"])
        #expect(outcome.status == .success, "\(outcome.message)")
        let reports = try requireReports(outcome.reports)
        let html = try await ChildProcess.run(
            try Self.tool("cmark-gfm", package: "cmark-gfm"), ["-e", "table", reports.path + "/revenue.md"])
        #expect(html.status == 0)
        // Periods, channels, top referrers, not counted, reconciliation.
        #expect(html.output.components(separatedBy: "<table>").count - 1 == 5, "\(html.output)")
        #expect(html.output.contains("<td align=\"right\"><strong>177.50</strong></td>"))
        let channels = try String(contentsOfFile: reports.path + "/channels.csv", encoding: .utf8)
        #expect(channels.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "\(channels)")
        let referrers = try String(contentsOfFile: reports.path + "/referrers.csv", encoding: .utf8)
        #expect(referrers.contains("'=cmd|' /C calc'!A0"), "\(referrers)")
        let svg = try reports.text("revenue.svg")
        #expect(!svg.contains("HYPERLINK") && !svg.contains("cmd") && !svg.contains("@example.com"))
    }

    @Test func dataInRevenueMarkdownRendersAsTextNeverAsALinkOrHTML() async throws {
        let harness = try await JobHarness()
        var rows = RevenueReportTests.threeMonths()
        rows.referral(
            "r8", by: "[mallory](https://evil.example)", channel: "<script>alert(1)</script> https://evil.example",
            at: "2025-01-05T00:00:00Z")
        rows.order("o8", for: "r8", total: "5.00", at: "2025-01-09T00:00:00Z")
        try rows.insert(into: harness.database)
        let outcome = await harness.revenue(["--as-of", "2025-03-31T00:00:00Z", "--currency", "USD"])
        #expect(outcome.status == .success, "\(outcome.message)")
        let reports = try requireReports(outcome.reports)
        let xml = try await ChildProcess.run(
            try Self.tool("cmark-gfm", package: "cmark-gfm"),
            ["-e", "table", "-e", "autolink", "-e", "tagfilter", "-t", "xml", reports.path + "/revenue.md"])
        #expect(xml.status == 0)
        #expect(!xml.output.contains("<html_inline") && !xml.output.contains("<html_block"))
        #expect(!xml.output.contains("evil.example\""), "a link to the data's address")
        #expect(xml.output.contains("[mallory](https://evil.example)"))
        #expect(xml.output.contains("&lt;script&gt;alert(1)&lt;/script&gt; https://evil.example"))
    }

    @Test func theChartRendersAndIsNotBlank() async throws {
        let harness = try await JobHarness()
        try RevenueReportTests.threeMonths().insert(into: harness.database)
        let outcome = await harness.revenue(["--as-of", "2025-03-31T00:00:00Z", "--currency", "USD"])
        let reports = try requireReports(outcome.reports)
        let converter = try Self.tool("rsvg-convert", package: "librsvg2-bin")
        let folder = try makeTemporaryFolder("svg")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let chart = try await ChildProcess.run(
            converter, ["-w", "800", "-h", "400", "-o", folder + "/chart.png", reports.path + "/revenue.svg"])
        #expect(chart.status == 0, "\(chart.output)")
        // The same canvas with nothing on it, rendered the same way: the chart must differ from it.
        try
            ##"<svg xmlns="http://www.w3.org/2000/svg" width="800" height="400"><rect width="800" height="400" fill="#ffffff"/></svg>"##
            .write(toFile: folder + "/blank.svg", atomically: true, encoding: .utf8)
        let blank = try await ChildProcess.run(
            converter, ["-w", "800", "-h", "400", "-o", folder + "/blank.png", folder + "/blank.svg"])
        #expect(blank.status == 0)
        let png = try Data(contentsOf: URL(fileURLWithPath: folder + "/chart.png"))
        let empty = try Data(contentsOf: URL(fileURLWithPath: folder + "/blank.png"))
        #expect(png.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), "a PNG")
        // IHDR: width and height, big-endian, at bytes 16-23.
        #expect(Array(png[16..<24]) == [0, 0, 0x03, 0x20, 0, 0, 0x01, 0x90], "800 x 400")
        #expect(png != empty)
        #expect(png.count > empty.count * 3, "chart \(png.count) bytes, blank \(empty.count)")
    }

    @Test func itIsInTheRunHistoryAndTheMetricsFileAndLeavesTheLedgerAlone() async throws {
        let harness = try await JobHarness()
        try RevenueReportTests.threeMonths().insert(into: harness.database)
        let metrics = try makeTemporaryFolder("metrics") + "/referral_sync_revenue.prom"
        let outcome = await harness.revenue([
            "--as-of", "2025-03-31T00:00:00Z", "--currency", "USD", "--metrics-file", metrics,
        ])
        #expect(outcome.status == .success, "\(outcome.message)")
        let history = try harness.database.query(
            "SELECT command, exit_status, outcome_counts->>'revenue', outcome_counts->>'reconciled' FROM referral_sync_runs"
        )
        #expect(history.map(\.values) == [["revenue", "0", "170.50", "true"]])
        #expect(try harness.database.query("SELECT count(*) FROM referral_sync_ledger").first?.int(0) == 0)
        #expect(try harness.database.query("SELECT count(*) FROM referral_sync_pending").first?.int(0) == 0)
        let text = try String(contentsOfFile: metrics, encoding: .utf8)
        #expect(text.contains("referral_sync_last_exit_status{command=\"revenue\"} 0"), "\(text)")
        #expect(try await MetricsFileTests.promtool(metrics).status == 0)
    }

    struct MissingTool: Error, CustomStringConvertible { var description: String }

    /// A program the test set-up installs (`make test`'s TEST_PACKAGES).
    static func tool(_ name: String, package: String) throws -> String {
        for folder in ["/usr/bin", "/usr/local/bin"]
        where FileManager.default.isExecutableFile(atPath: folder + "/" + name) {
            return folder + "/" + name
        }
        throw MissingTool(description: "\(name) is missing: `make test` installs the Debian package \(package)")
    }
}

/// The reconciliation's failure path: kept attributes that disagree with the definitions (which only a defect
/// could cause, here made by hand) are said in bold and exit 1.
@Suite struct RevenueReconciliationTests {
    @Test func aDifferenceWithTheAttributesIsSaidInBoldAndExits1() async throws {
        let harness = try await JobHarness()
        try RevenueReportTests.threeMonths().insert(into: harness.database)
        let options = ["--as-of", "2025-03-31T00:00:00Z", "--currency", "USD"]
        #expect(await harness.revenue(options).status == .success)
        // A kept value no definition gives: the next refresh is incremental and keeps it.
        try harness.database.run(
            "UPDATE referral_sync_participant_values SET total_successful_referral_revenue = '150.51' WHERE customer_id = 'a'"
        )
        let outcome = await harness.revenue(options)
        #expect(outcome.status == .needsAttention)
        #expect(outcome.message.contains("does not reconcile"), "\(outcome.message)")
        let markdown = try outcome.markdown()
        #expect(markdown.hasPrefix("# Referral revenue"))
        #expect(markdown.contains("**The report does not reconcile: over the whole history the report has 3"))
        #expect(
            markdown.contains("| Revenue, whole history, each referrer rounded once | 170.50 | 170.51 | **differ** |"))
    }

    @Test func topLimitsTheReferrersOfTheMarkdownOnly() async throws {
        let harness = try await JobHarness()
        try RevenueReportTests.threeMonths().insert(into: harness.database)
        let outcome = await harness.revenue(["--as-of", "2025-03-31T00:00:00Z", "--currency", "USD", "--top", "1"])
        #expect(outcome.status == .success)
        let markdown = try outcome.markdown()
        #expect(markdown.contains("## Top 1 referrers"))
        #expect(markdown.contains("| a | 2 | 150.50 |") && !markdown.contains("| b | 1 | 20.00 |"))
        #expect(try requireReports(outcome.reports).csv("referrers.csv").count == 2)
    }
}
