import Postgres
import ReferralModel

/// What bringing the recompute up to date did (`referral_sync_refresh`, `sql/definitions/80_refresh.sql`).
public struct StateRefresh: Sendable, Equatable {
    /// How the derived rows were brought up to date.
    public enum Mode: String, Sendable {
        /// Every customer was recomputed.
        case full
        /// Only the customers whose inputs changed, or whose rows crossed the as-of date, were recomputed.
        case incremental
    }
    public var mode: Mode
    /// Why the recompute was full, in words; `nil` when it was incremental.
    public var reason: String?
    /// Customers recomputed (every customer when full).
    public var recomputed: Int

    public init(mode: Mode, reason: String?, recomputed: Int) {
        self.mode = mode
        self.reason = reason
        self.recomputed = recomputed
    }

    /// One line for the summary and the log.
    public var description: String {
        switch mode {
        case .full: "full (\(reason ?? "asked for")): \(recomputed) customers"
        case .incremental: "incremental: \(recomputed) customers recomputed"
        }
    }
}

/// A refresh's result and the snapshot that sees it, exported while the refresh lock is held.
public final class ExportedSnapshot: @unchecked Sendable {
    /// What the refresh did.
    public let refresh: StateRefresh
    /// The snapshot id, for `SET TRANSACTION SNAPSHOT` (a server-generated hex string).
    public let id: String
    private let connection: PostgresConnection
    private let lockKey: Int64
    private var released = false

    init(refresh: StateRefresh, id: String, connection: PostgresConnection, lockKey: Int64) {
        self.refresh = refresh
        self.id = id
        self.connection = connection
        self.lockKey = lockKey
    }

    /// Ends the exporting transaction and lets other runs refresh. Call once every reader has imported the
    /// snapshot; calling it again does nothing.
    public func release() {
        guard !released else { return }
        released = true
        try? connection.run("COMMIT")
        try? connection.advisoryUnlock(lockKey)
    }
}

/// The state a run is in when its derived rows are not the ones its parameters ask for.
public struct StateMismatch: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// The recompute kept between runs (tables of migration 0006, refreshed by `sql/definitions/80_refresh.sql`):
/// every participant's values and identity problem, every rejected row, and the row counts of the input tables,
/// brought up to date at the start of each run and then read by `sql/queries` in one snapshot.
public enum ParticipantStateStore {
    /// Brings the derived rows up to date for `parameters` (the shard does not matter: they cover everyone).
    /// Waits for a refresh another run is making. Commits before returning.
    /// - Parameter full: Recompute every customer even when an incremental refresh would do.
    public static func refresh(on connection: PostgresConnection, _ parameters: RecomputeParameters, full: Bool)
        throws -> StateRefresh
    {
        let exported = try refreshAndExportSnapshot(on: connection, parameters, full: full)
        exported.release()
        return exported.refresh
    }

    /// Brings the derived rows up to date, then exports a snapshot that sees exactly them, before any other run
    /// can refresh again: the run's readers import it (`SET TRANSACTION SNAPSHOT`), so shards that refresh for
    /// slightly different as-of times (each its own "now") never read one another's rows.
    /// - Parameter countRows: Count the input tables' rows for the row accounting (every `run`); `drift`, `revenue`
    ///   and `explain`, which account for nothing, keep the last counts.
    /// - Returns: The refresh and its snapshot; `connection` stays in the exporting transaction, holding the
    ///   refresh lock, until ``ExportedSnapshot/release()``.
    public static func refreshAndExportSnapshot(
        on connection: PostgresConnection, _ parameters: RecomputeParameters, full: Bool, countRows: Bool = true
    ) throws -> ExportedSnapshot {
        let lockKey = try StoreKeys.key(.refresh, on: connection)
        try connection.advisoryLock(lockKey)
        do {
            try connection.run("BEGIN ISOLATION LEVEL REPEATABLE READ")
            let rows = try connection.query(
                """
                SELECT * FROM referral_sync_refresh(
                    $1::timestamptz, $2::text, $3::integer, $4::text, $5::boolean, $6::boolean)
                """,
                [
                    parameters.asOf.description, parameters.currency.code, String(parameters.currency.minorUnits),
                    parameters.phoneRegion, full ? "true" : "false", countRows ? "true" : "false",
                ])
            guard let row = rows.first, let mode = try row.value("mode").flatMap(StateRefresh.Mode.init(rawValue:))
            else {
                throw PostgresError(code: .unexpectedResponse, message: "referral_sync_refresh returned no row")
            }
            // Forgotten people (sql/definitions/95_forgotten.sql) are suppressed before anyone sees the refresh.
            _ = try connection.execute(
                "SELECT referral_sync_suppress_forgotten($1::boolean)", [mode == .full ? "true" : "false"])
            try connection.run("COMMIT")
            try connection.run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            let snapshot = try connection.query("SELECT pg_export_snapshot()").first?[0] ?? ""
            guard !snapshot.isEmpty, snapshot.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
                throw PostgresError(code: .unexpectedResponse, message: "unexpected snapshot id from the server")
            }
            return ExportedSnapshot(
                refresh: StateRefresh(
                    mode: mode, reason: try row.value("reason"),
                    recomputed: Int(try row.value("recomputed") ?? "") ?? 0),
                id: snapshot,
                connection: connection, lockKey: lockKey)
        } catch {
            try? connection.run("ROLLBACK")
            try? connection.advisoryUnlock(lockKey)
            throw error
        }
    }

    /// Starts a read-only transaction on `connection` in the exported snapshot. Call before anything else runs
    /// in that transaction, and before the snapshot is released.
    public static func importSnapshot(_ snapshot: ExportedSnapshot, on connection: PostgresConnection) throws {
        try connection.run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try connection.run("SET TRANSACTION SNAPSHOT '\(snapshot.id)'")
    }

    /// Checks, inside a reader's transaction, that the derived rows it sees were computed for `parameters`.
    /// - Throws: ``StateMismatch`` when they were not (no refresh yet, or another one since, with other
    ///   parameters).
    public static func verify(on connection: PostgresConnection, _ parameters: RecomputeParameters) throws {
        let rows = try connection.query(
            """
            SELECT as_of = $1::timestamptz AND currency = $2::text AND minor_units = $3::integer
                   AND default_region IS NOT DISTINCT FROM $4::text,
                   referral_sync_timestamp(as_of), currency, default_region
            FROM referral_sync_state
            """,
            [
                parameters.asOf.description, parameters.currency.code, String(parameters.currency.minorUnits),
                parameters.phoneRegion,
            ])
        guard let row = rows.first else {
            throw StateMismatch(
                description: "the recompute has not been brought up to date (no referral_sync_state row)")
        }
        guard row.bool(0) == true else {
            throw StateMismatch(
                description: "the recompute is as of \(row[1] ?? "?") in \(row[2] ?? "?") (phone region "
                    + "\(row[3] ?? "none")), not as this run asks: another run refreshed it meanwhile")
        }
    }

    /// Marks every customer for recomputing at the next refresh (after the row accounting found rows that do
    /// not add up, say: the derived rows may have missed a change).
    /// - Parameter reason: Why, in words, for the next run's summary.
    public static func requestFullRecompute(on connection: PostgresConnection, reason: String) throws {
        _ = try connection.execute(
            "INSERT INTO referral_sync_changes (everything, why) VALUES (true, $1)", [reason])
    }

    /// After a complete run (every shard, not a dry run, nothing interrupted, the ledger written): the compare
    /// candidates whose values now equal the ledger are settled, so the next run compares only the rest
    /// (`sql/definitions/87_compare_candidates.sql`). Under the refresh lock, so no refresh adds candidates
    /// between the look and the write.
    /// - Returns: How many candidates stay (values still pending, skipped, refused or in flight).
    @discardableResult
    public static func settleCompared(on connection: PostgresConnection) throws -> Int {
        let lockKey = try StoreKeys.key(.refresh, on: connection)
        return try connection.transaction {
            _ = try connection.execute("SELECT pg_advisory_xact_lock($1)", [String(lockKey)])
            return Int(try connection.query("SELECT referral_sync_settle_compared()").first?[0] ?? "0") ?? 0
        }
    }
}
