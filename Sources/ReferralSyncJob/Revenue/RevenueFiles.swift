import Foundation
import Postgres
import ReferralModel
import ReferralStore
import Reports

/// The files of a revenue report folder but `referrers.csv` (written as its rows arrive): `revenue.csv`,
/// `channels.csv`, `excluded_orders.csv`, `revenue.svg`, `revenue.md` and the options it was made with
/// (reports/README.md). Every CSV cell goes through ``CSVWriter`` (RFC 4180 and the formula guard).
struct RevenueFiles {
    let folder: ReportFolder
    let figures: RevenueFigures
    let options: RevenueOptions
    let currency: Currency
    let optionsKey: String

    static let revenueHeader = [
        "period", "period_start", "period_end", "currency", "referrals_created", "successful_referrals", "referrers",
        "revenue", "discounts", "average_order_value", "reversed_referrals", "reversed_revenue", "net_revenue", "label",
        // Added by the books (issue 26), at the end: the columns before are a public contract.
        "adjustments", "adjusted_net_revenue",
    ]
    static let channelsHeader = [
        "channel", "referrals_created", "successful_referrals", "converted_referrals", "conversion_percent", "revenue",
        "average_order_value",
    ]
    static let referrersHeader = [
        "customer_id", "email", "successful_referrals", "revenue", "discounts", "first_success_at", "last_success_at",
    ]
    static let excludedHeader = ["reason", "currency", "orders", "amount", "not_finite"]

    /// The report's summary, written by the session once the command has ended (``CommandReport``).
    static let markdownFile = "revenue.md"

    /// Writes every file of the folder but `referrers.csv` and `revenue.md`.
    func write() throws {
        let revenue = try CSVWriter(path: folder.path("revenue.csv"), header: Self.revenueHeader)
        for row in figures.periods { revenue.write(try Self.revenueFields(row, currency: currency)) }
        try revenue.close()
        try writeCSV("channels.csv", Self.channelsHeader, figures.channels)
        try writeCSV("excluded_orders.csv", Self.excludedHeader, figures.excludedOrders)
        try writeTextFile(try chart().render(), to: folder.path("revenue.svg"))
        try writeTextFile(optionsKey, to: folder.path(RevenueReport.optionsFile))
    }

    static func revenueFields(_ row: PostgresRow, currency: Currency) throws -> [String?] {
        try revenueHeader.map { $0 == "currency" ? currency.code : try row.value($0) }
    }

    private func writeCSV(_ name: String, _ header: [String], _ rows: [PostgresRow]) throws {
        let writer = try CSVWriter(path: folder.path(name), header: header)
        for row in rows { writer.write(try header.map { try row.value($0) }) }
        try writer.close()
    }

    /// Revenue per period as bars, successful referrals as a line: only numbers and period labels.
    func chart() throws -> SVGBarLineChart {
        let revenueTexts = try figures.periods.map { try $0.value("revenue") ?? "0" }
        let bars = revenueTexts.map { Decimal(string: $0) ?? 0 }
        let maximum = zip(bars, revenueTexts).max { $0.0 < $1.0 }.map(\.1) ?? "0"
        return SVGBarLineChart(
            labels: try figures.periods.map { try $0.value("label") ?? "" }, bars: bars, barTexts: revenueTexts,
            line: try figures.periods.map { Int(try $0.value("successful_referrals") ?? "") ?? 0 },
            title:
                "Referral revenue per \(options.unit.rawValue) (\(options.basis.rawValue) basis, \(options.timeZone))",
            barAxisTitle: "Revenue (\(currency.code))", lineAxisTitle: "Successful referrals",
            barMaximumText: maximum)
    }
}
