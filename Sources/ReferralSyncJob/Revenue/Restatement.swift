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
    /// not known. In the booked basis a closed period that changes is
    /// news: README "Finance" says which rows can do that.
    var closedThen: Bool?

    /// Compares `periods` with the previous report made with the same options (`optionsKey`), the one the
    /// database keeps (migration 0012, whatever became of its folder). Periods only one of the two has are not
    /// compared.
    /// - Returns: The changed periods, in order; none when there is no earlier report.
    static func sincePreviousReport(
        optionsKey: String, periods: [PostgresRow], currency: Currency, connection: PostgresConnection
    ) throws -> [Restatement] {
        guard let stored = try RevenueStore.previousReport(optionsKey: optionsKey, on: connection) else { return [] }
        let (previousKey, previous) = (stored.runID, stored.figures)
        let instant = ISO8601DateFormatter()
        let previousAsOf = stored.asOf.flatMap { instant.date(from: $0) }
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
}
