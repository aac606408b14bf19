import Foundation
import Postgres
import ReferralModel
import ReferralStore
import Reports

/// A period whose figures changed since the previous revenue report with the same options (README "Finance":
/// in the redemption basis a later rejection restates the past; in the booked basis a closed period never
/// changes, so a restatement there is news).
struct Restatement: Sendable, Equatable {
    var period: String
    var label: String
    var previousSuccesses: String
    var successes: String
    var previousNetRevenue: String
    var netRevenue: String
    /// `netRevenue - previousNetRevenue`, by the money rule.
    var difference: String
    /// The previous report's run id.
    var previousReport: String
    /// Whether the period had ended by the previous report's as-of (it was closed then); `nil` when that as-of is
    /// not known (a previous report read from its folder). In the booked basis a closed period that changes is
    /// news: README "Finance" says which rows can do that.
    var closedThen: Bool?

    /// Compares `periods` with the previous report made with the same options (`optionsKey`): the one the
    /// database keeps (migration 0012, whatever became of its folder), else, for a report made before that, the
    /// `revenue.csv` of the newest earlier report folder in `root` whose `optionsFile` holds `optionsKey`. Periods
    /// only one of the two has are not compared.
    /// - Returns: The changed periods, in order; none when there is no earlier report.
    static func sincePreviousReport(
        in root: String, runKey: String, optionsKey: String, optionsFile: String, periods: [PostgresRow],
        currency: Currency, connection: PostgresConnection
    ) throws -> [Restatement] {
        let stored = try RevenueStore.previousReport(optionsKey: optionsKey, on: connection)
        guard
            let (previousKey, previous) = stored.map({ ($0.runID, $0.figures) })
                ?? previousReport(in: root, runKey: runKey, optionsKey: optionsKey, optionsFile: optionsFile)
        else { return [] }
        let instant = ISO8601DateFormatter()
        let previousAsOf = stored?.asOf.flatMap { instant.date(from: $0) }
        var changed: [Restatement] = []
        for row in periods {
            guard let period = try row.value("period"), let old = previous[period] else { continue }
            let successes = try row.value("successful_referrals") ?? ""
            let net = try row.value("net_revenue") ?? ""
            guard old.successes != successes || old.netRevenue != net else { continue }
            let periodEnd = try row.value("period_end").flatMap { instant.date(from: $0) }
            changed.append(
                Restatement(
                    period: period, label: try row.value("label") ?? period, previousSuccesses: old.successes,
                    successes: successes, previousNetRevenue: old.netRevenue, netRevenue: net,
                    difference: try RevenueStore.difference(
                        net, minus: old.netRevenue, currency: currency, on: connection),
                    previousReport: previousKey,
                    closedThen: previousAsOf.flatMap { asOf in periodEnd.map { $0 <= asOf } }))
        }
        return changed
    }

    /// Keeps `periods` as the previous report of `optionsKey` for the next report with the same options.
    static func record(
        periods: [PostgresRow], runKey: String, optionsKey: String, asOf: Timestamp, connection: PostgresConnection
    ) throws {
        var figures: [String: (successes: String, netRevenue: String)] = [:]
        for row in periods {
            guard let period = try row.value("period") else { continue }
            figures[period] = (try row.value("successful_referrals") ?? "", try row.value("net_revenue") ?? "")
        }
        try RevenueStore.recordReport(
            optionsKey: optionsKey, asOf: asOf, .init(runID: runKey, figures: figures), on: connection)
    }

    /// The newest report folder before `runKey` with these options, and its periods' figures by `period`.
    static func previousReport(in root: String, runKey: String, optionsKey: String, optionsFile: String)
        -> (String, [String: (successes: String, netRevenue: String)])?
    {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root) else { return nil }
        // Run ids sort by the second only: two reports of one second are told apart by when revenue.csv was written.
        let candidates = names.filter { ReportFolder.looksLikeRunID($0) && $0 != runKey }.compactMap {
            name -> (name: String, written: Date)? in
            let folder = root + "/" + name
            guard (try? String(contentsOfFile: folder + "/" + optionsFile, encoding: .utf8)) == optionsKey,
                let written = (try? FileManager.default.attributesOfItem(atPath: folder + "/revenue.csv"))?[
                    .modificationDate] as? Date
            else { return nil }
            return (name, written)
        }
        for (name, _) in candidates.sorted(by: { ($0.written, $0.name) > ($1.written, $1.name) }) {
            let folder = root + "/" + name
            guard let text = try? String(contentsOfFile: folder + "/revenue.csv", encoding: .utf8) else { continue }
            let records = CSVReader.parse(text)
            guard let header = records.first, let period = header.firstIndex(of: "period"),
                let successes = header.firstIndex(of: "successful_referrals"),
                let net = header.firstIndex(of: "net_revenue")
            else { continue }
            var figures: [String: (successes: String, netRevenue: String)] = [:]
            for record in records.dropFirst() where record.count == header.count {
                figures[record[period]] = (record[successes], record[net])
            }
            return (name, figures)
        }
        return nil
    }
}
