import Foundation
import Postgres
import TestSupport
import Testing

@testable import ReferralStore
@testable import ReferralSyncCLI
@testable import ReferralSyncJob

/// The workers' ports `scripts/with-citus.sh` exports; nil outside it.
let citusWorkers = ProcessInfo.processInfo.environment["REFERRAL_SYNC_CITUS_WORKERS"]

/// referral-sync on Citus (issue 28), against the coordinator and two workers `scripts/with-citus.sh` starts:
/// `make test-citus` runs these alone, and `make test` runs them when Citus is installed (otherwise it prints why
/// not). Each test is a store of its own: a schema of the one database, made a distributed schema by
/// `citus.enable_schema_based_sharding` (Citus 12+), so its tables live together on one node.
@Suite(.enabled(if: citusWorkers != nil, "needs a Citus cluster: make test-citus"))
struct CitusTests {
    let environment = ProcessInfo.processInfo.environment.filter { $0.key.hasPrefix("PG") || $0.key == "DATABASE_URL" }
    let schema = "store_" + UUID().uuidString.prefix(8).lowercased()

    func coordinator() throws -> PostgresConnection {
        try PostgresConnection(conninfo: environment["DATABASE_URL"] ?? "")
    }

    /// The environment with `options` (`-c name=value …`) on every session of the job: libpq's `options`
    /// parameter, in the URL.
    func with(_ options: String) -> [String: String] {
        let url =
            (environment["DATABASE_URL"] ?? "") + "?options="
            + (options.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
        return environment.merging(["DATABASE_URL": url]) { $1 }
    }

    @Test func migrateMakesADistributedSchemaWhoseTablesLiveOnOneNode() async throws {
        let (status, message) = await runCommand(
            ["migrate", "--schema", schema, "--create-schema"],
            environment: with("-c citus.enable_schema_based_sharding=on -c citus.enable_unsafe_triggers=on"))
        #expect(status == .success, "\(message)")
        let connection = try coordinator()
        defer { connection.close() }
        #expect(try connection.query("SELECT 1 FROM citus_schemas WHERE schema_name::text = $1", [schema]).count == 1)
        let nodes = try connection.query(
            """
            SELECT DISTINCT s.nodeport FROM citus_shards s
            WHERE s.table_name::text LIKE $1 || '.%'
            """, [schema])
        #expect(nodes.count == 1, "every table of the store on one node: \(nodes.map { $0[0] ?? "" })")
        let tables = try connection.query(
            "SELECT count(*) FROM citus_shards s WHERE s.table_name::text LIKE $1 || '.%'", [schema])
        #expect(Int(tables.first?[0] ?? "0") ?? 0 > 20, "the input tables and referral-sync's own")
    }

    @Test func aStatementCitusRefusesIsAMigrationFailureNamingTheFile() async throws {
        // Without citus.enable_unsafe_triggers, Citus refuses the change-note triggers on the store's tables.
        let (status, message) = await runCommand(
            ["migrate", "--schema", schema, "--create-schema"],
            environment: with("-c citus.enable_schema_based_sharding=on -c citus.enable_unsafe_triggers=off"))
        #expect(status == .configuration, "\(message)")
        #expect(message.contains("sql/definitions/70_change_notes.sql"), "\(message)")
        #expect(message.contains("triggers are not supported on distributed tables"), "\(message)")
        #expect(!message.contains("input tables"), "never reported as bad input data")
    }

    /// The rules' form on Citus (`sql/definitions/98_citus_forms.sql`) writes a called set-returning rule into its
    /// caller: the call in the query is written in, the calls named in comments are left alone, and the caller
    /// returns what it returned as SQL. (A rule with one column and one parameter once made it write the rule in
    /// again forever: the alias it wrote read as a call.)
    @Test func aRuleThatCallsAnotherGetsItWrittenInAndItsCommentsLeftAlone() throws {
        let connection = try coordinator()
        defer { connection.close() }
        _ = try connection.execute("CREATE SCHEMA \(schema)")
        defer { _ = try? connection.execute("DROP SCHEMA \(schema) CASCADE") }
        // Written in again forever, the forms would fail here rather than hang the suite.
        _ = try connection.execute("SET search_path = \(schema)")
        _ = try connection.execute("SET statement_timeout = '30s'")
        _ = try connection.execute(
            """
            CREATE FUNCTION referral_sync_inner_rows(p_count integer) RETURNS TABLE (v integer)
            LANGUAGE sql STABLE AS $$ SELECT s.v FROM generate_series(1, p_count) AS s (v) $$
            """)
        _ = try connection.execute(
            """
            CREATE FUNCTION referral_sync_outer_rows(p_count integer) RETURNS TABLE (w integer)
            LANGUAGE sql STABLE AS $$
                -- the rows of referral_sync_inner_rows(p_count), doubled (a parenthesis left open
                SELECT i.v * 2 FROM referral_sync_inner_rows(p_count + 1) i
                -- and referral_sync_inner_rows(p_count) in a comment at the end
            $$
            """)
        let asSQL = try connection.query("SELECT w FROM referral_sync_outer_rows(3) ORDER BY w").map { $0[0] }
        #expect(asSQL == ["2", "4", "6", "8"])

        let forms = try #require(SQL.definitions.first { $0.name == "98_citus_forms" })
        _ = try connection.execute(forms.sql)

        let outer = try #require(
            try connection.query(
                """
                SELECT p.prosrc, l.lanname FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
                WHERE p.proname = 'referral_sync_outer_rows' AND p.pronamespace = $1::regnamespace
                """, [schema]
            ).first)
        let source = outer[0] ?? ""
        #expect(outer[1] == "plpgsql")
        #expect(source.contains("FROM generate_series(1, (p_count + 1))"), "the call written in: \(source)")
        #expect(!source.contains("FROM referral_sync_inner_rows("), "no call left in the query: \(source)")
        #expect(source.contains("-- the rows of referral_sync_inner_rows(p_count), doubled (a parenthesis left open"))
        #expect(source.contains("-- and referral_sync_inner_rows(p_count) in a comment at the end"))
        let asWrittenIn = try connection.query("SELECT w FROM referral_sync_outer_rows(3) ORDER BY w").map { $0[0] }
        #expect(asWrittenIn == asSQL)
    }

    /// Migrates this test's store as a distributed schema, the settings on the job's sessions.
    func migrateStore() async throws {
        let (status, message) = await runCommand(
            ["migrate", "--schema", schema, "--create-schema"], environment: with(distributedStoreOptions))
        try #require(status == .success, "\(message)")
    }

    /// The settings a store in a distributed schema needs (README "Several workers and a distributed PostgreSQL").
    let distributedStoreOptions = "-c citus.enable_schema_based_sharding=on -c citus.enable_unsafe_triggers=on"

    /// A connection to the coordinator whose search_path is the store's, as a loader's would be.
    func loader() throws -> PostgresConnection {
        let connection = try coordinator()
        try connection.run("SET search_path = \"\(schema)\"")
        return connection
    }

    @Test func loadingRowsIntoADistributedStoreNotesWhatChanged() async throws {
        try await migrateStore()
        let connection = try loader()
        defer { connection.close() }
        // The change-note triggers fire on the store's node, on its shards (70_change_notes).
        try connection.run(
            """
            INSERT INTO customers (customer_id, email, opted_in_at) VALUES
                ('cus_1', 'ann@example.com', '2024-01-01Z'), ('cus_2', 'bob@example.com', NULL);
            INSERT INTO referrals (referral_id, referrer_id, recipient_email, channel, created_at) VALUES
                ('ref_1', 'cus_1', 'bob@example.com', 'email', '2024-01-02Z');
            INSERT INTO referral_orders (order_id, referral_id, order_number, total_price, currency, redeemed_at)
                VALUES ('ord_1', 'ref_1', '1001', 20.00, 'USD', '2024-01-03Z')
            """)
        try connection.transaction {
            try connection.run("UPDATE customers SET first_name = 'Bob' WHERE customer_id = 'cus_2'")
            try connection.run("DELETE FROM referral_orders WHERE order_id = 'ord_1'")
        }
        let changed = try connection.query(
            "SELECT DISTINCT coalesce(customer_id, referral_id) FROM referral_sync_changes ORDER BY 1"
        ).map { $0[0] ?? "" }
        #expect(changed == ["cus_1", "cus_2", "ref_1"])
        let notes = try connection.query(
            "SELECT source || ':' || key FROM referral_sync_event_notes GROUP BY 1 ORDER BY 1"
        ).map { $0[0] ?? "" }
        #expect(notes == ["customers:cus_1", "customers:cus_2", "referral_orders:ref_1", "referrals:ref_1"])
        let arrivals = try connection.query(
            "SELECT source || ':' || key || ':' || (deleted_at IS NOT NULL) FROM referral_sync_row_arrivals ORDER BY 1"
        ).map { $0[0] ?? "" }
        #expect(
            arrivals == [
                "customers:cus_1:false", "customers:cus_2:false", "referral_orders:ord_1:true", "referrals:ref_1:false",
            ])
    }

    @Test func bulkLoadsIntoADistributedStoreByCopyOrInsertSelectAreNoted() async throws {
        try await migrateStore()
        let connection = try loader()
        defer { connection.close() }
        // A loader's bulk forms. Citus commits them in two phases even on one node, which PostgreSQL refuses for a
        // transaction that used a temporary table (the triggers' first way of handing their rows over).
        try connection.copyIn(
            "COPY customers (customer_id, email) FROM STDIN",
            rows: [["cus_1", "ann@example.com"], ["cus_2", nil]])
        try connection.run(
            """
            INSERT INTO customers (customer_id, email)
            SELECT 'cus_' || i, 'p' || i || '@example.com' FROM generate_series(3, 5) i
            """)
        let changed = try connection.query("SELECT customer_id FROM referral_sync_changes ORDER BY 1").map {
            $0[0] ?? ""
        }
        #expect(changed == ["cus_1", "cus_2", "cus_3", "cus_4", "cus_5"])
        let arrivals = try connection.query(
            "SELECT count(*) FROM referral_sync_row_arrivals WHERE source = 'customers'")
        #expect(arrivals.first?[0] == "5")
    }

    @Test func oneRunPerDistributedStoreTheLockIsTheCoordinators() async throws {
        try await migrateStore()
        // The job's advisory locks are taken on the coordinator, which every session of every job reaches: a
        // store's lock held there turns its run and drift away, whichever node holds the store's tables.
        let holder = try coordinator()
        defer { holder.close() }
        try holder.query("SELECT pg_advisory_lock($1)", [String(StoreKeys.key(.run, store: schema))])
        let environment = with(distributedStoreOptions).merging([
            "REFERRAL_SHOP_CURRENCY": "USD", "ATTENTIVE_API_KEY": "never-used",
        ]) { $1 }
        let reports = FileManager.default.temporaryDirectory.appendingPathComponent("citus-\(schema)").path
        defer { try? FileManager.default.removeItem(atPath: reports) }
        for command in [["run", "--dry-run"], ["drift"]] {
            let (status, message) = await runCommand(
                command + ["--schema", schema, "--reports-dir", reports], environment: environment)
            #expect(status == .locked, "\(command): \(message)")
            #expect(message.contains("another referral-sync run holds the lock"), "\(message)")
        }
    }
}
