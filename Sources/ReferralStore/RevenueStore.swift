import Postgres
import ReferralModel

/// The revenue report's range: local bounds in the report's zone and the instants they are.
public struct RevenueRange: Sendable, Equatable {
    /// The first local time of the range (`YYYY-MM-DDTHH:MM:SS`, a period start).
    public var firstLocal: String
    /// The local time just after the range.
    public var endLocal: String
    /// The first instant, as PostgreSQL writes it (passed back as a parameter).
    public var start: String
    /// The instant just after the range.
    public var end: String
    /// ``start`` as RFC 3339 with the zone's offset, for people.
    public var startText: String
    /// ``end`` as RFC 3339 with the zone's offset, for people.
    public var endText: String
}

/// The SQL of `referral-sync revenue` (README "Finance"): every figure is computed by PostgreSQL over the
/// definitions `run` uses (`sql/definitions/90_revenue_report.sql` on top of 40–55), inside the snapshot the
/// refresh exported, in `sql/queries/revenue_*.sql`, from the rows the refresh keeps for it
/// (`referral_sync_revenue_kept_lines`, `referral_sync_counted_referrals`, migration 0010). Nothing here writes to
/// a table of the database: the working set is two temporary views of the reader's session.
public enum RevenueStore {
    /// Whether PostgreSQL knows `zone` (`pg_timezone_names`).
    public static func isKnownTimeZone(_ zone: String, on connection: PostgresConnection) throws -> Bool {
        try connection.query(SQL.revenueTimezone, [zone]).first?.bool(0) == true
    }

    /// Starts the reader's transaction in `snapshot` (REPEATABLE READ, writable only for its temporary tables),
    /// with `zone` as the session's time zone, so offsets are the zone's.
    public static func begin(_ snapshot: ExportedSnapshot, zone: String, on connection: PostgresConnection) throws {
        try connection.run("BEGIN ISOLATION LEVEL REPEATABLE READ")
        try connection.run("SET TRANSACTION SNAPSHOT '\(snapshot.id)'")
        _ = try connection.query("SELECT set_config('TimeZone', $1, true)", [zone])
        // As in referral_sync_refresh, JIT compiling these statements costs more than it saves (about a second at
        // 100,000 participants). Parallel workers: the aggregates are cheap enough that starting workers (on a
        // machine whose cores the job shares) is not worth it.
        try connection.run("SET LOCAL jit = off; SET LOCAL max_parallel_workers_per_gather = 0")
    }

    /// Names the working set: the kept lines of the basis and the kept referrals that count (revenue_lines.sql,
    /// revenue_referrals.sql: temporary views over the tables the refresh keeps, so nothing is recomputed here).
    public static func prepare(
        on connection: PostgresConnection, asOf: Timestamp, currency: Currency, basis: RevenueBasis
    ) throws {
        _ = try connection.query(
            "SELECT set_config('referral_sync.report_booked', $1, true)", [basis == .booked ? "true" : "false"])
        try connection.run(SQL.revenueLines)
        try connection.run(SQL.revenueReferrals)
    }

    /// The range from `--from`/`--to` (`nil`: from the first dated row, to the period that holds as-of).
    public static func range(
        on connection: PostgresConnection, zone: String, unit: PeriodUnit, from: CalendarSpan?, to: CalendarSpan?,
        asOf: Timestamp
    ) throws -> RevenueRange {
        let rows = try connection.query(
            SQL.revenueRange,
            [zone, unit.field, unit.step, from.map { "\($0.first)" }, to.map { "\($0.end)" }, asOf.description])
        guard let row = rows.first else {
            throw PostgresError(code: .unexpectedResponse, message: "revenue_range.sql returned no row")
        }
        return RevenueRange(
            firstLocal: try row.value("first_local") ?? "", endLocal: try row.value("end_local") ?? "",
            start: try row.value("range_start") ?? "", end: try row.value("range_end") ?? "",
            startText: try row.value("range_start_text") ?? "", endText: try row.value("range_end_text") ?? "")
    }

    /// The periods of the range and the totals row (revenue_periods.sql), by column name.
    public static func periods(
        on connection: PostgresConnection, zone: String, unit: PeriodUnit, range: RevenueRange, currency: Currency
    ) throws -> [PostgresRow] {
        // The statement's aggregates by period have a few groups, but the planner cannot know (a row's period is a
        // width_bucket, which has no statistics) and, with the default 4 MB, sorts every line on disk instead of
        // hashing them (1M participants: about 0.7 s of 4). For this statement only, and never lower than the
        // connection's own setting.
        let workMem = try connection.query("SELECT current_setting('work_mem')").first?[0] ?? "4MB"
        _ = try connection.query(
            "SELECT set_config('work_mem', CASE WHEN pg_size_bytes($1) < pg_size_bytes('64MB') THEN '64MB' "
                + "ELSE $1 END, true)", [workMem])
        defer { _ = try? connection.query("SELECT set_config('work_mem', $1, true)", [workMem]) }
        return try connection.query(
            SQL.revenuePeriods,
            [
                zone, unit.field, unit.step, range.firstLocal, range.endLocal, String(currency.minorUnits),
                unit.labelFormat,
            ])
    }

    /// The channels of the range (revenue_channels.sql).
    public static func channels(on connection: PostgresConnection, range: RevenueRange, currency: Currency) throws
        -> [PostgresRow]
    {
        try connection.query(SQL.revenueChannels, [range.start, range.end, String(currency.minorUnits)])
    }

    /// Hands the referrers of the range to `body`, highest revenue first (revenue_referrers.sql), one at a time.
    public static func forEachReferrer(
        on connection: PostgresConnection, range: RevenueRange, currency: Currency, _ body: (PostgresRow) throws -> Void
    ) throws {
        try connection.forEachRow(SQL.revenueReferrers, [range.start, range.end, String(currency.minorUnits)], body)
    }

    /// The orders of the range that do not count, by reason and currency (revenue_excluded_orders.sql).
    public static func excludedOrders(on connection: PostgresConnection, range: RevenueRange) throws -> [PostgresRow] {
        let units = Currency.codesNotInTwoMinorUnits.sorted { $0.key < $1.key }
        return try connection.query(
            SQL.revenueExcludedOrders,
            [
                range.start, range.end, PostgresArray.literal(units.map { Optional($0.key) }),
                PostgresArray.literal(units.map { Optional(String($0.value)) }),
            ])
    }

    /// The whole history against the kept attributes (revenue_reconciliation.sql).
    public static func reconciliation(on connection: PostgresConnection, currency: Currency) throws -> PostgresRow {
        guard let row = try connection.query(SQL.revenueReconciliation, [String(currency.minorUnits)]).first else {
            throw PostgresError(code: .unexpectedResponse, message: "revenue_reconciliation.sql returned no row")
        }
        return row
    }

    /// A revenue report's periods as a later report compares them: each period's successful referrals and net
    /// revenue, as revenue.csv writes them.
    public struct ReportedPeriods: Sendable {
        /// The report's run id.
        public var runID: String
        /// The report's as-of (RFC 3339, UTC, to the second); `nil` when not known (a report read from its folder).
        public var asOf: String?
        /// By period (its first day, `revenue.csv`'s `period`).
        public var figures: [String: (successes: String, netRevenue: String)]

        /// Figures of `runID`, as of `asOf`.
        public init(runID: String, asOf: String? = nil, figures: [String: (successes: String, netRevenue: String)]) {
            self.runID = runID
            self.asOf = asOf
            self.figures = figures
        }
    }

    /// The periods of the previous report made with `optionsKey` (migration 0012), or `nil` when there is none.
    public static func previousReport(optionsKey: String, on connection: PostgresConnection) throws
        -> ReportedPeriods?
    {
        let rows = try connection.query(SQL.revenuePreviousReport, [optionsKey])
        guard let first = rows.first else { return nil }
        var figures: [String: (successes: String, netRevenue: String)] = [:]
        for row in rows {
            guard let period: String = try row.value("period") else { continue }
            figures[period] = (try row.value("successful_referrals") ?? "", try row.value("net_revenue") ?? "")
        }
        return ReportedPeriods(runID: try first.value("run_id") ?? "", asOf: try first.value("as_of"), figures: figures)
    }

    /// Keeps a published report's periods as the previous report of `optionsKey`, replacing the one before.
    public static func recordReport(
        optionsKey: String, asOf: Timestamp, _ periods: ReportedPeriods, on connection: PostgresConnection
    ) throws {
        let rows = periods.figures.sorted { $0.key < $1.key }
        try connection.execute(
            SQL.revenueRecordReport,
            [
                optionsKey, periods.runID, asOf.description, PostgresArray.literal(rows.map { Optional($0.key) }),
                PostgresArray.literal(rows.map { Optional($0.value.successes) }),
                PostgresArray.literal(rows.map { Optional($0.value.netRevenue) }),
            ])
    }

    /// `new - old`, both amounts as the report writes them, rounded by the money rule (for restatements).
    public static func difference(
        _ new: String, minus old: String, currency: Currency, on connection: PostgresConnection
    ) throws -> String {
        try connection.query(SQL.revenueDifference, [new, old, String(currency.minorUnits)]).first?[0] ?? ""
    }
}
