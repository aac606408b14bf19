import Foundation
import Postgres
import ReferralModel
import ReferralStore
import Reports

/// The files of a report across stores (reports/README.md "Several stores"): `revenue_<store>.csv` per store (the
/// columns of a single store's `revenue.csv`), `consolidated.csv` (per currency and period, the stores of that
/// currency added up, never converted) and `revenue.md`.
struct ConsolidatedFiles {
    let stores: [StoreRevenue]
    let options: RevenueOptions
    let folder: ReportFolder

    static let columns = [
        "successful_referrals", "revenue", "reversed_revenue", "net_revenue", "adjustments", "adjusted_net_revenue",
    ]
    static let consolidatedHeader = ["currency", "period", "label", "stores"] + columns

    /// One currency's consolidated rows: each period any of its stores has, then the total.
    struct Table {
        var currency: Currency
        var stores: [String]
        var rows: [[String: String]]
    }

    /// A store's file: its name with anything but letters, digits, `_` and `-` as `%XX`.
    static func storeFile(_ store: String) -> String {
        "revenue_"
            + store.utf8.map { byte in
                let character = Character(Unicode.Scalar(byte))
                return character.isASCII && (character.isLetter || character.isNumber || "_-".contains(character))
                    ? String(character) : String(format: "%%%02X", byte)
            }.joined() + ".csv"
    }

    /// Adds up the stores of each currency, period by period, exactly (PostgreSQL's numeric on the amounts as the
    /// stores' reports round them).
    func consolidate(on connection: PostgresConnection) throws -> [Table] {
        let byCurrency = Dictionary(grouping: stores, by: \.currency.code)
        return try byCurrency.keys.sorted().map { code in
            let group = byCurrency[code] ?? []
            let currency = group[0].currency
            var periods: [String: (label: String, stores: [String], rows: [PostgresRow])] = [:]
            for store in group {
                for row in store.periods {
                    let period = try row.value("period") ?? ""
                    let label = try row.value("label") ?? period
                    var entry = periods[period] ?? (label, [], [])
                    entry.stores.append(store.store)
                    entry.rows.append(row)
                    periods[period] = entry
                }
            }
            var rows = try periods.sorted(by: { $0.key < $1.key }).map { period, entry in
                try added(
                    entry.rows, currency: currency,
                    ["period": period, "label": entry.label, "stores": entry.stores.joined(separator: ",")],
                    on: connection)
            }
            rows.append(
                try added(
                    group.map(\.totals), currency: currency,
                    ["period": "total", "label": "Total", "stores": group.map(\.store).joined(separator: ",")],
                    on: connection))
            return Table(currency: currency, stores: group.map(\.store), rows: rows)
        }
    }

    private func added(
        _ rows: [PostgresRow], currency: Currency, _ fields: [String: String], on connection: PostgresConnection
    ) throws -> [String: String] {
        var result = fields
        result["currency"] = currency.code
        for column in Self.columns {
            let values = try rows.map { Optional(try $0.value(column) ?? "0") }
            result[column] =
                try connection.query(
                    "SELECT round(coalesce(sum(v::numeric), 0), $2::integer)::text FROM unnest($1::text[]) AS v",
                    [
                        PostgresArray.literal(values),
                        column == "successful_referrals" ? "0" : String(currency.minorUnits),
                    ]
                ).first?[0] ?? ""
        }
        return result
    }

    func write(_ tables: [Table]) throws {
        for store in stores {
            let writer = try CSVWriter(
                path: folder.path(Self.storeFile(store.store)), header: RevenueFiles.revenueHeader)
            for row in store.periods { writer.write(try RevenueFiles.revenueFields(row, currency: store.currency)) }
            try writer.close()
        }
        let writer = try CSVWriter(path: folder.path("consolidated.csv"), header: Self.consolidatedHeader)
        for table in tables {
            for row in table.rows { writer.write(Self.consolidatedHeader.map { row[$0] }) }
        }
        try writer.close()
    }

    func markdown(_ tables: [Table], end: EndOfCommand) -> String {
        let stores = self.stores.map(\.store)
        var text = "# Referral revenue \(end.runKey): stores \(stores.joined(separator: ", "))\n\n"
        text += "- Result: **exit \(end.status)**: \(end.message)\n"
        text += "- As of: \(end.configuration.asOf.millisecondString) (only rows dated at or before it count)\n"
        text += "- Basis: `\(options.basis.rawValue)`; periods: `--by \(options.unit.rawValue)` in "
        text += "`\(options.timeZone)`\n"
        text += "- Every store's figures are read in one database snapshot, each store refreshed under its own lock "
        text += "first; a store's currency is its own, and amounts are never converted.\n\n"
        let columns = [
            ("Period", "label"), ("Successful", "successful_referrals"), ("Revenue", "revenue"),
            ("Reversed revenue", "reversed_revenue"), ("Net revenue", "net_revenue"), ("Adjustments", "adjustments"),
            ("Adjusted net revenue", "adjusted_net_revenue"),
        ]
        for store in self.stores {
            text += "## Store `\(MarkdownText.escape(store.store))` (\(store.currency.code))\n\n"
            var rows = store.periods.map { row in columns.map { (try? row.value($0.1)) ?? "" } }
            rows.append(columns.map { "**" + ((try? store.totals.value($0.1)) ?? "") + "**" })
            text += MarkdownTable(header: columns.map(\.0), rows: rows, rightAligned: Set(1..<columns.count)).render()
            let value = { (name: String) in (try? store.reconciliation.value(name)) ?? "" }
            let reconciles = value("reconciles") == "t"
            text += "\nReconciliation with the attributes, whole history: \(value("report_successes")) successful "
            text += "referrals and \(value("report_revenue_by_referrer")) revenue (each referrer rounded once) in the "
            text += "report, \(value("attribute_successes")) and \(value("attribute_revenue")) in the attributes: "
            text += reconciles ? "equal" : "**differ**"
            text += ". Recompute: \(store.refresh.description). File: `\(Self.storeFile(store.store))`.\n\n"
        }
        text += "## Consolidated, per currency\n\n"
        for table in tables {
            let names = table.stores.map { "`\(MarkdownText.escape($0))`" }
            text += "### \(table.currency.code): \(names.joined(separator: ", "))\n\n"
            let rows = table.rows.map { row in
                let cells = columns.map { row[$0.1] ?? "" }
                return row["period"] == "total" ? cells.map { "**\($0)**" } : cells
            }
            text += MarkdownTable(header: columns.map(\.0), rows: rows, rightAligned: Set(1..<columns.count)).render()
            text += "\n"
        }
        text += "Each currency's stores added up period by period, as each store reports them (`consolidated.csv`); "
        text += "stores in other currencies are in their own table.\n"
        return text
    }
}
