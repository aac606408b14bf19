import Foundation
import Postgres
import ReferralStore
import Testing

/// A store moved between nodes with Citus's own tool between two runs (issue 28): `citus_schema_move`, with
/// `shard_transfer_mode => 'block_writes'` (README "Several workers and a distributed PostgreSQL" says why not the
/// default, logical replication).
extension CitusTests {
    /// The port of the worker that holds every table of this test's store.
    func storeNode(_ connection: PostgresConnection) throws -> [String] {
        try connection.query(
            "SELECT DISTINCT nodeport::text FROM citus_shards WHERE table_name::text LIKE $1 || '.%' ORDER BY 1",
            [schema]
        ).map { $0[0] ?? "" }
    }

    /// Every table of the store (the input tables and referral-sync's own), each as its row count and an md5 of
    /// its rows in order: equal before and after a move only if no row was lost, added or changed.
    func storeFingerprint(_ connection: PostgresConnection) throws -> [String: String] {
        let tables = try connection.query(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = $1 ORDER BY 1", [schema]
        ).map { $0[0] ?? "" }
        var fingerprint: [String: String] = [:]
        for table in tables {
            let row = try connection.query(
                """
                SELECT count(*) || ' rows, ' || coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '-')
                FROM "\(schema)"."\(table)" t
                """)
            fingerprint[table] = row.first?[0] ?? ""
        }
        return fingerprint
    }

    /// Moves this test's store to the worker that does not hold it, with `citus_schema_move`, and checks that every
    /// table went. Returns that worker's port.
    @discardableResult
    func moveStoreToTheOtherWorker(_ coordinator: PostgresConnection) throws -> String {
        let from = try storeNode(coordinator)
        try #require(from.count == 1, "the store on one node: \(from)")
        let to = try #require(citusWorkers?.split(separator: " ").map(String.init).first { $0 != from[0] })
        try coordinator.query(
            "SELECT citus_schema_move($1::regnamespace, '127.0.0.1', $2::int, shard_transfer_mode => 'block_writes')",
            [schema, to])
        #expect(try storeNode(coordinator) == [to], "every table of the store on the other worker")
        return to
    }

    @Test func aStoreMovedToTheOtherWorkerKeepsEveryRowItsChangeNotesAndItsLock() async throws {
        try await migrateStore()
        let loader = try loader()
        defer { loader.close() }
        try loader.run(
            """
            INSERT INTO customers (customer_id, email, opted_in_at) VALUES
                ('cus_1', 'ann@example.com', '2024-01-01Z'), ('cus_2', 'bob@example.com', NULL);
            INSERT INTO referrals (referral_id, referrer_id, recipient_email, channel, created_at) VALUES
                ('ref_1', 'cus_1', 'bob@example.com', 'email', '2024-01-02Z'),
                ('ref_2', 'cus_1', 'cy@example.com', 'sms', '2024-01-04Z');
            INSERT INTO referral_orders (order_id, referral_id, order_number, total_price, currency, redeemed_at)
                VALUES ('ord_1', 'ref_1', '1001', 20.00, 'USD', '2024-01-03Z');
            INSERT INTO referral_rejections (referral_id, rejection_type, reason, rejected_at)
                VALUES ('ref_2', 'fraud', 'self-referral', '2024-01-05Z');
            INSERT INTO referral_coupons (coupon_code, referral_id, customer_id, role, issued_at)
                VALUES ('THANKS-1', 'ref_1', 'cus_1', 'referrer', '2024-01-03Z');
            UPDATE customers SET first_name = 'Bob' WHERE customer_id = 'cus_2';
            INSERT INTO referral_sync_ledger (customer_id, email, successful_referrals, accepted_at)
                VALUES ('cus_1', 'ann@example.com', '1', '2024-01-06Z')
            """)
        let coordinator = try coordinator()
        defer { coordinator.close() }
        let before = try storeFingerprint(coordinator)
        #expect(before["referral_sync_changes"]?.hasPrefix("0 rows") == false, "change notes to move")
        #expect(before["referral_sync_event_notes"]?.hasPrefix("0 rows") == false, "event notes to move")
        #expect(before["referral_sync_row_arrivals"]?.hasPrefix("0 rows") == false, "row arrivals to move")
        let to = try moveStoreToTheOtherWorker(coordinator)
        let after = try storeFingerprint(coordinator)
        #expect(after.keys.sorted() == before.keys.sorted())
        for (table, rows) in before.sorted(by: { $0.key < $1.key }) {
            #expect(after[table] == rows, "\(table) after the move")
        }

        // The change-note triggers moved with their tables: they fire on the new node and note there.
        try loader.run(
            """
            INSERT INTO customers (customer_id, email) VALUES ('cus_3', 'dee@example.com');
            DELETE FROM referral_orders WHERE order_id = 'ord_1'
            """)
        let changed = try loader.query(
            "SELECT DISTINCT coalesce(customer_id, referral_id) FROM referral_sync_changes ORDER BY 1"
        ).map { $0[0] ?? "" }
        #expect(changed == ["cus_1", "cus_2", "cus_3", "ref_1", "ref_2"])
        let arrivals = try loader.query(
            """
            SELECT source || ':' || key || ':' || (deleted_at IS NOT NULL) FROM referral_sync_row_arrivals
            WHERE key IN ('cus_3', 'ord_1') ORDER BY 1
            """
        ).map { $0[0] ?? "" }
        #expect(arrivals == ["customers:cus_3:false", "referral_orders:ord_1:true"])
        let notes = try loader.query(
            "SELECT count(*) FROM referral_sync_event_notes WHERE source = 'customers' AND key = 'cus_3'")
        #expect(notes.first?[0] == "1")
        #expect(try storeNode(coordinator) == [to], "the new notes on the new node too")

        // One run per store still: its lock is the coordinator's, wherever the store's tables went.
        try coordinator.query("SELECT pg_advisory_lock($1)", [String(StoreKeys.key(.run, store: schema))])
        let reports = FileManager.default.temporaryDirectory.appendingPathComponent("citus-\(schema)").path
        defer { try? FileManager.default.removeItem(atPath: reports) }
        let (status, message) = await runCommand(
            ["run", "--dry-run", "--schema", schema, "--reports-dir", reports],
            environment: with(distributedStoreOptions).merging(["REFERRAL_SHOP_CURRENCY": "USD"]) { $1 })
        #expect(status == .locked, "\(message)")
    }
}

extension CitusTests {
    @Test func aTransactionThatLoadsStoresOnTwoNodesCommitsAndNotesEach() async throws {
        // A transaction that writes on two nodes commits in two phases, and PostgreSQL refuses to prepare one that
        // used a temporary table or sent a notification: the change-note triggers on a shard use neither.
        let other = schema + "_other"
        try await migrateStore()
        let (status, message) = await runCommand(
            ["migrate", "--schema", other, "--create-schema"], environment: with(distributedStoreOptions))
        try #require(status == .success, "\(message)")
        let coordinator = try coordinator()
        defer { coordinator.close() }
        let here = try storeNode(coordinator)
        let workers = try #require(citusWorkers?.split(separator: " ").map(String.init))
        let otherNode = try coordinator.query(
            "SELECT DISTINCT nodeport::text FROM citus_shards WHERE table_name::text LIKE $1 || '.%'", [other]
        ).map { $0[0] ?? "" }
        if otherNode == here, let elsewhere = workers.first(where: { !here.contains($0) }) {
            try coordinator.query(
                """
                SELECT citus_schema_move($1::regnamespace, '127.0.0.1', $2::int, shard_transfer_mode => 'block_writes')
                """, [other, elsewhere])
        }
        let nodes = try coordinator.query(
            """
            SELECT count(DISTINCT nodeport) FROM citus_shards
            WHERE table_name::text LIKE $1 || '.%' OR table_name::text LIKE $2 || '.%'
            """, [schema, other])
        try #require(nodes.first?[0] == "2", "the two stores on two nodes")

        try coordinator.transaction {
            try coordinator.run(
                """
                INSERT INTO "\(schema)".customers (customer_id, email) VALUES ('cus_1', 'ann@example.com');
                INSERT INTO "\(other)".customers (customer_id, email) VALUES ('cus_2', 'bob@example.com')
                """)
        }
        for (store, customer) in [(schema, "cus_1"), (other, "cus_2")] {
            let changes = try coordinator.query("SELECT customer_id FROM \"\(store)\".referral_sync_changes")
            #expect(changes.map { $0[0] ?? "" } == [customer], "\(store)")
            let arrivals = try coordinator.query("SELECT key FROM \"\(store)\".referral_sync_row_arrivals")
            #expect(arrivals.map { $0[0] ?? "" } == [customer], "\(store)")
        }
    }
}
