import Postgres
import ReferralModel

/// The SQL of `referral-sync events`: taking the event notes, deriving the candidates, and the events ledger
/// (migration 0008). Every statement runs on the connection given; callers hold the events lock.
public enum EventLedger {
    /// Whether `events` ran before (its state row exists).
    public static func hasRun(on connection: PostgresConnection) throws -> Bool {
        try !connection.query("SELECT 1 FROM referral_sync_events_state").isEmpty
    }

    /// Which rows a run considers.
    public enum Scope: Sendable, Equatable {
        /// The rows noted since the last run (every run but the first).
        case notes
        /// The whole history (`--backfill`).
        case everything
        /// The rows dated at or after `since` and at or before the as-of (the first run: only they can still trigger
        /// a journey), found by the input tables' time indexes; the older rows are counted (``History``), not read;
        /// the rows dated after the as-of are noted for their time, not read (``History/later``).
        case window(since: Timestamp)
    }

    /// The rows before the first run's window, per input table: counted, not evented.
    public struct History: Sendable, Equatable {
        public var customersOptedIn = 0
        public var referrals = 0
        public var orders = 0
        public var rejections = 0
        public var coupons = 0
        public var total: Int { customersOptedIn + referrals + orders + rejections + coupons }
        /// Rows dated after the as-of, every table together: they do not exist yet at the as-of, so each is noted
        /// for its time (as the trigger would have noted it then) and the first run whose as-of reaches it sends
        /// its events. Neither read nor counted above.
        public var later = 0
        public init() {}

        /// Rows per table, in report order.
        public var rows: [(table: String, count: Int)] {
            [
                ("customers (opted in)", customersOptedIn), ("referrals", referrals), ("referral_orders", orders),
                ("referral_rejections", rejections), ("referral_coupons", coupons),
            ]
        }
    }

    /// Starts the discovery transaction and takes the rows to consider: every note due at `asOf` is deleted, and
    /// its key returned (``Scope/notes``); for the other scopes the notes are only deleted, and the rows of the
    /// scope are read instead. Call ``commitDiscovery(on:)`` (or ``rollbackDiscovery(on:)`` for a dry run)
    /// afterwards.
    public static func beginDiscovery(on connection: PostgresConnection, asOf: Timestamp, scope: Scope) throws
        -> (keys: EventKeys, history: History?)
    {
        try connection.run("BEGIN")
        try connection.execute(
            "SELECT pg_advisory_xact_lock($1)", [String(try StoreKeys.key(.eventsDiscovery, on: connection))])
        let due = "DELETE FROM referral_sync_event_notes WHERE not_before IS NULL OR not_before <= $1::timestamptz"
        if scope != .notes {
            // The whole history or the window is read instead: the notes are only dropped, never loaded.
            try connection.execute(due, [asOf.description])
        }
        switch scope {
        case .notes:
            let noted = try connection.query(due + " RETURNING source, key", [asOf.description])
            return (try withDependents(keys(noted), on: connection), nil)
        case .everything:
            var keys = EventKeys()
            keys.everything = true
            return (keys, nil)
        case .window(let since):
            // The rows after the as-of are many when the as-of is in the past (a reproduced run), and none of them
            // makes an event yet: noting them here, in SQL, keeps them out of the job's memory. +infinity stays in
            // the window, so its row is listed (occurred_at_not_finite) as before. The rows in a subquery: Citus
            // (13.2) sends an INSERT … SELECT … UNION ALL that leaves a column to its default (colocation_key) to
            // the worker with one expression too few ("INSERT has more target columns than expressions").
            let later = try connection.execute(
                "INSERT INTO referral_sync_event_notes (source, key, not_before) SELECT s, k, t FROM ("
                    + datedRows { "\($0) > $1::timestamptz AND \($0) < 'infinity'" } + ") AS later (s, k, t)",
                [asOf.description])
            let rows = try connection.query(
                datedRows { "\($0) >= $1::timestamptz AND (\($0) <= $2::timestamptz OR \($0) = 'infinity')" },
                [since.description, asOf.description])
            let counts = try connection.query(
                "SELECT "
                    + datedTables.map { table, _, time in
                        "(SELECT count(*) FROM \(table) WHERE \(time) < $1::timestamptz)"
                    }.joined(separator: ", "), [since.description]
            ).first
            var history = History()
            history.customersOptedIn = counts?.int(0) ?? 0
            history.referrals = counts?.int(1) ?? 0
            history.orders = counts?.int(2) ?? 0
            history.rejections = counts?.int(3) ?? 0
            history.coupons = counts?.int(4) ?? 0
            history.later = later
            return (try withDependents(keys(rows), on: connection), history)
        }
    }

    /// The input tables whose rows' times make events, in ``History``'s order, as (table, the key its notes carry,
    /// the time column): `customers` by `opted_in_at`, `referrals` by `created_at`, `referral_orders` (keyed by
    /// their referral, as the notes are) by `redeemed_at`, `referral_rejections` by `rejected_at`,
    /// `referral_coupons` by `issued_at`.
    static let datedTables = [
        ("customers", "customer_id", "opted_in_at"), ("referrals", "referral_id", "created_at"),
        ("referral_orders", "referral_id", "redeemed_at"), ("referral_rejections", "referral_id", "rejected_at"),
        ("referral_coupons", "coupon_code", "issued_at"),
    ]

    /// The rows of every table of ``datedTables`` as (source, key, time), the note's columns, for the rows `filter`
    /// keeps (given the time column).
    static func datedRows(_ filter: (String) -> String) -> String {
        datedTables.map { table, key, time in "SELECT '\(table)', \(key), \(time) FROM \(table) WHERE \(filter(time))" }
            .joined(separator: "\nUNION ALL ")
    }

    /// `keys` with the rows whose events depend on them: a customer's referrals (made or received) and the coupons
    /// it holds, and a referral's coupons. A customer whose email is fixed, or who lands after a referral naming
    /// them, so gets the events that were skipped for want of an identity.
    static func withDependents(_ keys: EventKeys, on connection: PostgresConnection) throws -> EventKeys {
        guard !keys.customers.isEmpty || !keys.referrals.isEmpty else { return keys }
        func array(_ values: [String]) -> String { PostgresArray.literal(values.map { Optional($0) }) }
        let rows = try connection.query(
            """
            WITH referral AS (
                SELECT r.referral_id FROM referrals r WHERE r.referrer_id = ANY ($1::text[])
                UNION SELECT r.referral_id FROM referrals r WHERE r.recipient_customer_id = ANY ($1::text[])
                UNION SELECT unnest($2::text[])
            )
            SELECT 'referrals', referral_id FROM referral
            UNION ALL
            SELECT 'referral_coupons', cp.coupon_code FROM referral_coupons cp
            WHERE cp.customer_id = ANY ($1::text[]) OR cp.referral_id IN (SELECT referral_id FROM referral)
            """, [array(keys.customers), array(keys.referrals)])
        var more = EventKeys.merging(keys, Self.keys(rows))
        more.everything = keys.everything
        more.rows = keys.rows
        return more
    }

    /// The keys of `rows` (source table, key), each once, grouped by what they can change.
    static func keys(_ rows: [PostgresRow]) -> EventKeys {
        var keys = EventKeys()
        var seen = Set<String>()
        for row in rows {
            guard let source = row[0], let key = row[1], seen.insert(source + "\u{0}" + key).inserted else { continue }
            switch source {
            case "customers": keys.customers.append(key)
            case "referrals":
                keys.referrals.append(key)
                keys.redemptions.append(key)
                keys.rejections.append(key)
            case "referral_orders": keys.redemptions.append(key)
            case "referral_rejections":
                keys.rejections.append(key)
                keys.redemptions.append(key)
            case "referral_coupons": keys.coupons.append(key)
            default: continue
            }
        }
        keys.redemptions = Array(Set(keys.redemptions)).sorted()
        keys.rejections = Array(Set(keys.rejections)).sorted()
        keys.rows = seen.count
        return keys
    }

    /// Streams the candidates of `keys` to `body`, in the discovery transaction.
    public static func forEachCandidate(
        on connection: PostgresConnection, keys: EventKeys, asOf: Timestamp, currency: Currency,
        phoneRegion: String?, maxAgeSeconds: Double, shardCount: Int = 1, _ body: (EventCandidate) throws -> Void
    ) throws {
        func array(_ values: [String]) -> String { PostgresArray.literal(values.map { Optional($0) }) }
        let parameters: [String?] = [
            asOf.description, currency.code, String(currency.minorUnits), phoneRegion, keys.everything ? "t" : "f",
            array(keys.customers), array(keys.referrals), array(keys.redemptions), array(keys.rejections),
            array(keys.coupons), String(maxAgeSeconds), String(max(shardCount, 1)),
        ]
        let cursor = try RowCursor(
            on: connection, sql: SQL.eventCandidates, parameters: parameters, name: "referral_sync_events_cursor")
        defer { try? cursor.close() }
        while let row = try cursor.next() {
            try body(
                EventCandidate(
                    key: row[0] ?? "", type: row[1] ?? "", role: row[2] ?? "", sourceRow: row[3] ?? "",
                    noteSource: row[4] ?? "", noteKey: row[5] ?? "", occurredAt: row[6] ?? "",
                    occurredAtRaw: row[7] ?? "", email: row[8], phone: row[9], properties: row[10], reason: row[11],
                    tooOld: row.bool(12) ?? false, ledgerState: row[13].flatMap(EventLedgerState.init(rawValue:)),
                    shardNumber: row.int(14) ?? 1,
                    textCleaned: row.bool(15) ?? false, warning: row[16]))
        }
    }

    /// A new event for the ledger: pending, with its frozen body.
    public struct NewEvent: Sendable {
        public var candidate: EventCandidate
        public var id: String
        public var body: String
        public init(candidate: EventCandidate, id: String, body: String) {
            self.candidate = candidate
            self.id = id
            self.body = body
        }
    }

    /// Adds `events` to the ledger as pending (an event already there is left as it is).
    public static func insertPending(_ events: [NewEvent], runID: Int64?, on connection: PostgresConnection) throws {
        guard !events.isEmpty else { return }
        func column(_ value: (NewEvent) -> String?) -> String? { PostgresArray.literal(events.map(value)) }
        try connection.execute(
            """
            INSERT INTO referral_sync_events (event_key, event_id, type, role, source_row, occurred_at, user_email,
                                              user_phone, body, state, found_run_id, updated_run_id, warning)
            SELECT k, i::uuid, t, r, s, o::timestamptz, e, p, b, 'pending', $10::bigint, $10::bigint, w
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                        $8::text[], $9::text[], $11::text[]) AS n (k, i, t, r, s, o, e, p, b, w)
            ON CONFLICT (event_key) DO NOTHING
            """,
            [
                column { $0.candidate.key }, column { $0.id }, column { $0.candidate.type },
                column { $0.candidate.role }, column { $0.candidate.sourceRow },
                column { $0.candidate.occurredAtRaw }, column { $0.candidate.email }, column { $0.candidate.phone },
                column { $0.body }, runID.map(String.init), column { $0.candidate.warning },
            ])
    }

    /// Notes rows again for the time their event is due (`not_before`).
    public static func noteAgain(
        _ notes: [(source: String, key: String, at: String)], on connection: PostgresConnection
    )
        throws
    {
        guard !notes.isEmpty else { return }
        try connection.execute(
            """
            INSERT INTO referral_sync_event_notes (source, key, not_before)
            SELECT s, k, min(t::timestamptz) FROM unnest($1::text[], $2::text[], $3::text[]) AS n (s, k, t)
            GROUP BY s, k
            """,
            [
                PostgresArray.literal(notes.map { Optional($0.source) }),
                PostgresArray.literal(notes.map { Optional($0.key) }),
                PostgresArray.literal(notes.map { Optional($0.at) }),
            ])
    }

    /// Records that `events` has run (first run, or a backfill).
    public static func recordRun(
        on connection: PostgresConnection, asOf: Timestamp, runID: Int64?, backfill: Bool
    ) throws {
        try connection.execute(
            """
            INSERT INTO referral_sync_events_state (first_as_of, first_run_id, backfilled_at)
            VALUES ($1::timestamptz, $2::bigint, CASE WHEN $3::boolean THEN now() END)
            ON CONFLICT (singleton) DO UPDATE
                SET backfilled_at = coalesce(EXCLUDED.backfilled_at, referral_sync_events_state.backfilled_at)
            """, [asOf.description, runID.map(String.init), backfill ? "t" : "f"])
    }

    public static func commitDiscovery(on connection: PostgresConnection) throws { try connection.run("COMMIT") }

    public static func rollbackDiscovery(on connection: PostgresConnection) { try? connection.run("ROLLBACK") }

}
