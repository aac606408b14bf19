import Foundation
import Postgres
import ReferralStore
import TestSupport
import Testing

/// The refresh split into functions of one job each (issue 22) keeps exactly what the single function it replaced
/// kept. That function, as it was at a479fbe, is the fixture `refresh-a479fbe/80_refresh.sql` of
/// `Tests/ReferralStoreTests/Fixtures`; it calls the rule functions of `sql/definitions` as they still are.
///
/// On the fuzz data (the acceptance-sized histories of ``FuzzTests``' seeds, plus the rows the fuzz data never
/// makes), each refresh path runs once with the old function and once with today's, from the same database state,
/// and every row of every `referral_sync_` table is compared, every column: only the state row's rules fingerprint
/// and clock times may differ (the first covers the functions' source, the others are when it ran).
///
/// A change meant to change what the refresh keeps ends this test's use: delete it with its fixture.
@Suite struct RefreshBeforeAndAfterTests {
    static let fixture = repositoryRoot + "/Tests/ReferralStoreTests/Fixtures/refresh-a479fbe/80_refresh.sql"

    /// What the fuzz data never makes: ±infinity dates, infinite totals, a hidden character in a link, an email
    /// the rules refuse for its length beside a usable phone.
    static let rarities = """
        INSERT INTO customers (customer_id, email, phone, shareable_link, opted_in_at) VALUES
            ('x1', repeat('a', 70) || '@example.com', '(415) 555-0199', 'https://shop.example/r/x1' || chr(8238),
             '-infinity'),
            ('x2', 'x2@example.com', NULL, NULL, 'infinity');
        INSERT INTO referrals (referral_id, referrer_id, recipient_email, channel, created_at) VALUES
            ('xr1', 'x1', 'f1@example.net', 'sms', '2024-01-01Z'), ('xr2', 'x1', 'f2@example.net', NULL, 'infinity'),
            ('xr3', 'x2', 'f3@example.net', 'email', '-infinity');
        INSERT INTO referral_orders (order_id, referral_id, total_price, discount_amount, currency, redeemed_at) VALUES
            ('xo1', 'xr1', 'Infinity', 0, 'USD', '2024-01-02Z'), ('xo2', 'xr1', '-Infinity', 0, 'USD', '2024-01-02Z'),
            ('xo3', 'xr1', 5, 1.25, 'USD', '-infinity'), ('xo4', 'xr1', 7, 0, 'USD', 'infinity'),
            ('xo5', 'xr3', 9, 0.5, 'USD', '2024-01-03Z');
        INSERT INTO referral_rejections (referral_id, rejected_at) VALUES ('xr3', 'infinity');
        """

    /// Every reason code of `rejected_rows.csv` and every identity problem: the data must reach each branch.
    static let everyReason: Set<String> = [
        "created_after_as_of", "self_referral_by_customer_id", "self_referral_by_email", "redeemed_after_as_of",
        "redeemed_at_not_finite", "total_not_finite", "negative_total", "currency_mismatch", "referral_not_counted",
        "redeemed_before_referral_created", "referral_rejected", "not_first_order_of_referral", "rejected_after_as_of",
        "no_usable_identity", "duplicate_identity",
    ]

    /// What one refresh returned and every `referral_sync_` table after it (sorted row texts, by table).
    typealias Snapshot = [String: [String]]

    @Test(arguments: [UInt64(20_241_108), 7, 1_234_567])
    func theSplitRefreshKeepsWhatTheSingleFunctionKept(seed: UInt64) throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        _ = try Migrations.apply(on: connection)
        try FuzzTests.load(FuzzHistory(seed: seed), into: database)
        try connection.run(Self.rarities)
        let old = try String(contentsOfFile: Self.fixture, encoding: .utf8)

        let before = try Self.refreshes(on: connection, installing: old, seed: seed)
        let after = try Self.refreshes(on: connection, installing: nil, seed: seed)

        #expect(before.map { $0["refresh"] ?? [] } == after.map { $0["refresh"] ?? [] })
        #expect(
            before.map { $0["refresh"]?.first?.prefix(5) ?? "" } == ["(full", "(full", "(incr"],
            "a first refresh, a full one asked for, an incremental one")
        #expect(before[0]["referral_sync_participant_values"]?.count ?? 0 > 250)
        let reasons = Set(before.flatMap { $0["reasons"] ?? [] })
        #expect(reasons == Self.everyReason)
        for (index, (old, new)) in zip(before, after).enumerated() {
            #expect(Set(old.keys) == Set(new.keys))
            for table in old.keys.sorted() where old[table] != new[table] {
                let oldRows = old[table] ?? []
                let newRows = new[table] ?? []
                let onlyOld = oldRows.filter { !newRows.contains($0) }.prefix(3)
                let onlyNew = newRows.filter { !oldRows.contains($0) }.prefix(3)
                let message: String =
                    "refresh \(index + 1), \(table): \(oldRows.count) rows before, \(newRows.count) after; "
                    + "only before: \(Array(onlyOld)); only after: \(Array(onlyNew))"
                Issue.record(Comment(rawValue: message))
            }
        }
    }

    /// A full recompute lets PostgreSQL check every referral with parallel workers (82_refresh_kept_rows): the rule
    /// set must stay parallel safe, or the workers silently stop helping, and what the workers check must be what
    /// one process checks. On data this small PostgreSQL plans no worker unless told that they cost nothing.
    @Test func theChecksOfEveryoneMayUseParallelWorkersAndKeepTheSameRows() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        _ = try Migrations.apply(on: connection)
        try FuzzTests.load(FuzzHistory(seed: 7), into: database)
        try connection.run(Self.rarities)
        try connection.run("ANALYZE")

        let alone = try Self.refreshes(on: connection, installing: nil, seed: 7)
        try connection.run(
            """
            SET parallel_setup_cost = 0; SET min_parallel_table_scan_size = 0; SET min_parallel_index_scan_size = 0;
            SET max_parallel_workers_per_gather = 2; SET parallel_tuple_cost = 0.01
            """)
        let plan = try connection.query(
            """
            EXPLAIN CREATE TEMP TABLE checked AS
            SELECT * FROM referral_sync_referral_checks($1::timestamptz, NULL)
            """, [FuzzExpectations.iso(FuzzHistory.asOf)]
        ).map { $0[0] ?? "" }
        #expect(plan.contains { $0.contains("Gather") }, "\(plan.joined(separator: "\n"))")
        let withWorkers = try Self.refreshes(on: connection, installing: nil, seed: 7)
        try connection.run("RESET ALL")

        #expect(alone.count == withWorkers.count)
        for (index, (one, other)) in zip(alone, withWorkers).enumerated() {
            for table in Set(one.keys).union(other.keys).sorted() where one[table] != other[table] {
                let message: String =
                    "refresh \(index + 1), \(table): \(one[table]?.count ?? 0) rows by one process, "
                    + "\(other[table]?.count ?? 0) with workers"
                Issue.record(Comment(rawValue: message))
            }
        }
    }

    /// Three refreshes in one transaction, rolled back afterwards: a first one (no state: everyone, the kept
    /// indexes dropped and built again), a full one asked for with an earlier as-of and no phone region, and an
    /// incremental one with a later as-of after changes of every kind (``IncrementalRecomputeTests/changes``).
    /// `definition`: SQL installing the refresh to run (nil: the migrated one).
    static func refreshes(on connection: PostgresConnection, installing definition: String?, seed: UInt64) throws
        -> [Snapshot]
    {
        try connection.run("BEGIN ISOLATION LEVEL REPEATABLE READ")
        defer { try? connection.run("ROLLBACK") }
        if let definition { try connection.run(definition) }
        let day = FuzzHistory.day
        let calls: [(asOf: Int64, region: String?, full: Bool)] = [
            (FuzzHistory.asOf, "US", false), (FuzzHistory.asOf - 20 * day, nil, true),
            (FuzzHistory.asOf + 11 * day, nil, false),
        ]
        var snapshots: [Snapshot] = []
        for (index, call) in calls.enumerated() {
            if index == 2 {
                for (number, statements) in IncrementalRecomputeTests.changes.enumerated() {
                    for statement in statements { _ = try connection.execute(statement, ["\(seed)-\(number)"]) }
                }
            }
            let result = try connection.query(
                "SELECT r::text FROM referral_sync_refresh($1::timestamptz, 'USD', 2, $2::text, $3::boolean) r",
                [FuzzExpectations.iso(call.asOf), call.region, call.full ? "true" : "false"]
            ).map { $0[0] ?? "" }
            var snapshot = try tables(connection)
            snapshot["refresh"] = result
            snapshot["reasons"] = try connection.query(
                """
                SELECT reason FROM referral_sync_rejected_rows
                UNION SELECT problem FROM referral_sync_participant_values WHERE problem IS NOT NULL
                ORDER BY 1
                """
            ).map { $0[0] ?? "" }
            snapshots.append(snapshot)
        }
        return snapshots
    }

    /// Every row of every `referral_sync_` table of the schema as text, sorted: every column but the state row's
    /// rules fingerprint and clock times, and the arrival times the triggers wrote (clock times too).
    static func tables(_ connection: PostgresConnection) throws -> Snapshot {
        let tables = try connection.query(
            """
            SELECT c.relname FROM pg_class c
            WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'
              AND c.relname LIKE 'referral\\_sync\\_%'
              -- Who the next run compares (issue 27, migration 0018): added after a479fbe, which noted no one.
              AND c.relname <> 'referral_sync_compare_candidates'
            ORDER BY 1
            """
        ).compactMap { $0[0] }
        var snapshot: Snapshot = [:]
        for table in tables {
            let columns = try connection.query(
                """
                SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a
                WHERE a.attrelid = $1::text::regclass AND a.attnum > 0 AND NOT a.attisdropped
                  AND NOT ($1::text = 'referral_sync_state'
                           AND a.attname IN ('rules_fingerprint', 'refreshed_at', 'full_recompute_at'))
                  -- When the triggers saw the test's changes: clock times of the run, not of the refresh.
                  AND NOT ($1::text = 'referral_sync_row_arrivals'
                           AND a.attname IN ('first_seen', 'last_changed', 'deleted_at'))
                """, [table]
            ).first?[0]
            let list = try #require(columns)
            snapshot[table] = try connection.query(
                "SELECT ROW(\(list))::text FROM \(table) ORDER BY 1"
            ).map { $0[0] ?? "" }
        }
        return snapshot
    }
}
