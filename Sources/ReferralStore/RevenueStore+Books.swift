import Postgres
import ReferralModel

/// The revenue books (README "Finance": closing a period, adjustments): the closes and adjustments of
/// `sql/definitions/92_revenue_books.sql` (migration 0017).
extension RevenueStore {
    /// Why a period may not be closed now (`referral_sync_revenue_close_refusal`), or `nil` when it may.
    public enum CloseRefusal: String, Sendable {
        /// Closed before: a close is never redone and never reopened.
        case alreadyClosed = "already_closed"
        /// Its end is after as-of.
        case notEnded = "not_ended"
        /// The period before it is open (before the first close: a revenue line is dated before it).
        case predecessorOpen = "predecessor_open"
    }

    /// Whether the period in `row` (a row of revenue_periods.sql, or its instants) may be closed as of `asOf`.
    public static func closeRefusal(
        unit: PeriodUnit, zone: String, periodStart: String, periodEnd: String, asOf: Timestamp,
        on connection: PostgresConnection
    ) throws -> CloseRefusal? {
        let rows = try connection.query(
            "SELECT referral_sync_revenue_close_refusal($1, $2, $3::timestamptz, $4::timestamptz, $5::timestamptz)",
            [unit.field, zone, periodStart, periodEnd, asOf.description])
        return rows.first?[0].flatMap(CloseRefusal.init(rawValue:))
    }

    /// Closes a period with the figures the report has for it (every column of revenue.csv by name), booking its
    /// lines and the pending adjustments in it (`referral_sync_revenue_close`).
    public static func close(
        unit: PeriodUnit, zone: String, period: String, label: String, periodStart: String, periodEnd: String,
        asOf: Timestamp, currency: Currency, runID: String, figures: [String: String],
        on connection: PostgresConnection
    ) throws {
        let names = figures.keys.sorted()
        try connection.execute(
            """
            SELECT referral_sync_revenue_close($1, $2, $3, $4, $5::timestamptz, $6::timestamptz, $7::timestamptz,
                                               $8, $9, jsonb_object($10::text[], $11::text[]))
            """,
            [
                unit.field, zone, period, label, periodStart, periodEnd, asOf.description, currency.code, runID,
                PostgresArray.literal(names.map { Optional($0) }),
                PostgresArray.literal(names.map { figures[$0] }),
            ])
    }

    /// The closed periods (revenue_closes.sql), of one zone and unit or, with `nil`, of all.
    public static func closes(zone: String?, unit: PeriodUnit?, on connection: PostgresConnection) throws
        -> [PostgresRow]
    {
        try connection.query(SQL.revenueCloses, [zone, unit?.field])
    }

    /// Every adjustment to a closed period of `unit` in `zone`, booked or pending (revenue_adjustments.sql).
    public static func adjustments(
        zone: String, unit: PeriodUnit, currency: Currency, on connection: PostgresConnection
    ) throws -> [PostgresRow] {
        try connection.query(SQL.revenueAdjustments, [zone, unit.field, unit.labelFormat, String(currency.minorUnits)])
    }
}
