import Postgres
import ReferralModel

/// The send side of the events ledger: what is not yet delivered, in flight, and each answer.
extension EventLedger {
    /// Marks `keys` in flight, just before their requests start.
    public static func markInFlight(_ keys: [String], runID: Int64, on connection: PostgresConnection) throws {
        guard !keys.isEmpty else { return }
        try connection.execute(
            """
            UPDATE referral_sync_events SET state = 'in_flight', updated_at = now(), updated_run_id = $2::bigint
            WHERE event_key = ANY ($1::text[]) AND state NOT IN ('delivered', 'forgotten')
            """, [PostgresArray.literal(keys.map { Optional($0) }), String(runID)])
    }

    /// Records Attentive's answer for one event: `delivered` (2xx), `refused` (for its content: not sent again
    /// unless `--retry-refused`; refused again, it keeps when it was first refused) or `failed`.
    public static func recordOutcome(
        key: String, delivered: Bool, refused: Bool = false, httpStatus: Int?, error: String?, attempts: Int,
        runID: Int64, on connection: PostgresConnection
    ) throws {
        // The time is read once, outside the CASEs: Citus refuses a function that is not IMMUTABLE, such as now(),
        // inside a CASE or COALESCE of an UPDATE (README "Several workers and a distributed PostgreSQL").
        try connection.execute(
            """
            WITH clock AS (SELECT now() AS now)
            UPDATE referral_sync_events
            SET state = CASE WHEN $2::boolean THEN 'delivered' WHEN $7::boolean THEN 'refused' ELSE 'failed' END,
                delivered_at = CASE WHEN $2::boolean THEN clock.now END,
                refused_at = CASE WHEN $7::boolean THEN coalesce(refused_at, clock.now) END,
                http_status = $3::integer, error = $4, attempts = attempts + $5::integer, updated_at = clock.now,
                updated_run_id = $6::bigint
            FROM clock
            WHERE event_key = $1
            """,
            [
                key, delivered ? "t" : "f", httpStatus.map(String.init), error, String(attempts), String(runID),
                refused ? "t" : "f",
            ])
    }

    /// Drops the event notes while `events` has never run: the first `events` run reads its window through the time
    /// indexes and would drop them anyway, so a store that does not schedule `events` does not collect a note per
    /// row loaded. Called by `run`.
    public static func pruneNotesIfEventsNeverRan(on connection: PostgresConnection) throws {
        try connection.execute(
            """
            DELETE FROM referral_sync_event_notes WHERE NOT EXISTS (SELECT 1 FROM referral_sync_events_state)
            """)
    }

    /// How long the events still to deliver have waited, in seconds since they were found (`found_at`).
    public struct Lag: Sendable, Equatable {
        /// The oldest event still to deliver; `nil` when none waits.
        public var oldest: Double?
        /// The oldest of those that occurred at or after the fresh bound (a backfill's history left out).
        public var oldestFresh: Double?
        public init(oldest: Double? = nil, oldestFresh: Double? = nil) {
            self.oldest = oldest
            self.oldestFresh = oldestFresh
        }
    }

    /// The follower's lag (all shards): events pending, in flight or failed. Events refused for their content,
    /// and those held back because another app owns their type (`type_not_owned`), wait for a person, not for the
    /// follower, and are not counted.
    /// - Parameter heldBackCode: The code that starts the ledger's error of an event held back for its type
    ///   (`EventTypeOwnership.code`).
    public static func lag(on connection: PostgresConnection, freshSince: Timestamp, heldBackCode: String) throws
        -> Lag
    {
        let row = try connection.query(
            """
            SELECT extract(epoch FROM now() - min(found_at))::float8,
                   extract(epoch FROM now() - min(found_at) FILTER (WHERE occurred_at >= $1::timestamptz))::float8
            FROM referral_sync_events
            WHERE state IN ('pending', 'in_flight', 'failed') AND left(coalesce(error, ''), length($2)) <> $2
            """, [freshSince.description, heldBackCode]
        ).first
        return Lag(oldest: row?[0].flatMap(Double.init), oldestFresh: row?[1].flatMap(Double.init))
    }

    /// Whether event notes are due at `asOf`: rows committed since the last discovery (the notes' index, cheap).
    public static func notesWaiting(asOf: Timestamp, on connection: PostgresConnection) throws -> Bool {
        try connection.query(
            """
            SELECT EXISTS (SELECT 1 FROM referral_sync_event_notes
                           WHERE not_before IS NULL OR not_before <= $1::timestamptz)
            """, [asOf.description]
        ).first?.bool(0) ?? false
    }

    /// Events of the ledger not yet delivered and still tried: refused ones are not counted (all shards).
    public static func unsentCount(on connection: PostgresConnection) throws -> Int {
        try connection.query(
            "SELECT count(*) FROM referral_sync_events WHERE state NOT IN ('delivered', 'forgotten', 'refused')"
        ).first?.int(0) ?? 0
    }
}

/// The events of the ledger not yet delivered, of one shard, read a chunk at a time (keyset pagination over
/// `referral_sync_events_send_order_idx`, migration 0016), so a backfill of millions holds one chunk of bodies, never
/// the ledger. Each chunk takes first the events still young enough to start a journey (occurred at or after
/// `freshSince`), oldest first, then the older ones, oldest first: so a backlog (a backfill, an outage) never
/// delays today's invitations and rewards by more than one chunk. Refused events (README "Refusals") only with
/// `retryRefused`.
///
/// Each event is read once by a reader (a run, or one pass of a follower): an event tried since the reader began
/// (marked in flight or answered: its `updated_at`, by the server's clock) is not read again, so a `failed` one
/// waits for the next run or pass instead of looping; `in_flight` and `failed` events left before are read like
/// pending ones. Events added while the run sends (a discovery between chunks) are read too, the fresh ones by the
/// next chunk once ``rereadFresh()`` is called; older ones the history has already passed wait for the next run.
public final class UnsentEvents {
    private let connection: PostgresConnection
    private let shard: Shard
    private let freshSince: Timestamp
    private let retryRefused: Bool
    private let chunkSize: Int
    /// When the reader began, by the server's clock: an event updated since was tried by its run.
    private let began: String
    /// Where each part stopped: `occurred_at` as PostgreSQL wrote it and the key, the last read.
    private var freshAfter: (occurredAt: String, key: String)?
    private var historyAfter: (occurredAt: String, key: String)?

    /// - Parameters:
    ///   - connection: The connection to read on (the run's writer: it sees what the run wrote).
    ///   - chunkSize: The most events a chunk holds.
    /// - Throws: `PostgresError` when the server's clock cannot be read.
    public init(
        on connection: PostgresConnection, shard: Shard, freshSince: Timestamp, retryRefused: Bool = false,
        chunkSize: Int
    ) throws {
        self.connection = connection
        self.shard = shard
        self.freshSince = freshSince
        self.retryRefused = retryRefused
        self.chunkSize = max(1, chunkSize)
        // The statements that mark an event run after this one, so their now() is later.
        began = try connection.query("SELECT clock_timestamp()::text").first?[0] ?? "-infinity"
    }

    /// The next chunk: the fresh events not yet read, then older ones; empty when none is left.
    public func next() throws -> [UnsentEvent] {
        var chunk = try read(fresh: true, after: freshAfter, limit: chunkSize)
        if let last = chunk.last { freshAfter = last.position }
        if chunk.count < chunkSize {
            let history = try read(fresh: false, after: historyAfter, limit: chunkSize - chunk.count)
            if let last = history.last { historyAfter = last.position }
            chunk += history
        }
        return chunk.map(\.event)
    }

    /// New events joined the ledger: the next chunk reads the fresh ones from the start again (what this run tried
    /// stays out).
    public func rereadFresh() { freshAfter = nil }

    private func read(fresh: Bool, after: (occurredAt: String, key: String)?, limit: Int) throws -> [(
        event: UnsentEvent, position: (occurredAt: String, key: String)
    )] {
        // The keyset condition only when there is a position, so the plan starts the index scan there. The position's
        // text has a name of its own: named occurred_at, ORDER BY would sort by it (the output column) and read
        // every unsent event for each chunk instead of walking the index.
        let keyset = after == nil ? "" : "AND (occurred_at, event_key) > ($7::timestamptz, $8)"
        return try connection.query(
            """
            SELECT event_key, event_id::text, type, role, source_row, referral_sync_detail_time(occurred_at),
                   user_email, user_phone, body, state, attempts, warning, occurred_at::text AS position_at
            FROM referral_sync_events
            WHERE state NOT IN ('delivered', 'forgotten') AND (state <> 'refused' OR $4::boolean)
              AND \(fresh ? "occurred_at >= $3::timestamptz" : "occurred_at < $3::timestamptz") \(keyset)
              AND (state = 'pending' OR updated_at < $5::timestamptz)
              AND ($1::integer = 1 OR mod(abs(hashtextextended(event_key, 0)), $1::integer) = $2::integer - 1)
            ORDER BY occurred_at, event_key
            LIMIT $6::integer
            """,
            [
                String(shard.count), String(shard.number), freshSince.description, retryRefused ? "t" : "f",
                began, String(limit),
            ] + (after.map { [$0.occurredAt, $0.key] } ?? [])
        ).map { row in
            (
                UnsentEvent(
                    key: row[0] ?? "", id: row[1] ?? "", type: row[2] ?? "", role: row[3] ?? "",
                    sourceRow: row[4] ?? "", occurredAt: row[5] ?? "", email: row[6], phone: row[7],
                    body: row[8] ?? "", state: row[9].flatMap(EventLedgerState.init(rawValue:)),
                    attempts: row.int(10) ?? 0, warning: row[11]),
                (row[12] ?? "", row[0] ?? "")
            )
        }
    }
}
