import Foundation
import Postgres
import TestSupport
import Testing

/// One store's tables distributed by row (issue 28): `referral-sync migrate` into a plain schema, then
/// `referral_sync_distribute_by_customer()` (sql/definitions/97_citus_layout.sql), which distributes the input tables
/// and the change notes co-located with `customers`, so each change-note trigger, firing on a shard, writes only to
/// the co-located shards of its own node.
extension CitusTests {
    /// A session on the coordinator in this test's store, with the setting distributing by row needs.
    func distributingSession(_ store: String) throws -> PostgresConnection {
        let connection = try coordinator()
        try connection.run("SET search_path = \"\(store)\"; SET citus.enable_unsafe_triggers = on")
        return connection
    }

    /// The setting the jobs of a store distributed by row need: `migrate` re-creates the change-note triggers.
    var rowLayoutOptions: String { "-c citus.enable_unsafe_triggers=on" }

    /// Migrates `store` as a plain schema (PostgreSQL's tables on the coordinator: no schema-based sharding).
    func migratePlainStore(_ store: String) async throws {
        let (status, message) = await runCommand(
            ["migrate", "--schema", store, "--create-schema"],
            environment: with("-c citus.enable_schema_based_sharding=off"))
        try #require(status == .success, "\(message)")
    }

    @Test func distributingAStoreByRowWithoutUnsafeTriggersIsRefusedSayingWhichSetting() async throws {
        try await migratePlainStore(schema)
        let connection = try coordinator()
        defer { connection.close() }
        try connection.run("SET search_path = \"\(schema)\"")
        // Citus alone says `cannot distribute relation "customers" because it has triggers`.
        #expect {
            try connection.query("SELECT referral_sync_distribute_by_customer()")
        } throws: { error in
            "\(error)".contains("needs citus.enable_unsafe_triggers = on")
        }
        let distributed = try connection.query(
            "SELECT count(*) FROM pg_dist_partition WHERE logicalrelid::text LIKE $1 || '.%'", [schema])
        #expect(distributed.first?[0] == "0", "nothing distributed")
    }

    @Test func aStoreDistributedByRowHasItsInputTablesAndNotesCoLocatedWithCustomers() async throws {
        try await migratePlainStore(schema)
        let connection = try distributingSession(schema)
        defer { connection.close() }
        // Called from another schema, it still distributes the store it belongs to; and only once.
        try connection.run("SET search_path = public")
        try connection.query("SELECT \"\(schema)\".referral_sync_distribute_by_customer(4)")
        #expect {
            try connection.query("SELECT \"\(schema)\".referral_sync_distribute_by_customer(4)")
        } throws: { error in
            "\(error)".contains("is distributed already")
        }
        try connection.run("SET search_path = \"\(schema)\"")
        // The job's own writers of notes name no colocation_key (ParticipantStateStore's everything note, the
        // event notes of EventLedger and ForgetStore): from the coordinator, they still write.
        try connection.run(
            """
            INSERT INTO referral_sync_changes (everything, why) VALUES (true, 'the rows did not add up');
            INSERT INTO referral_sync_event_notes (source, key, not_before) VALUES ('customers', 'cus_1', now())
            """)
        try connection.run("SET search_path = public")
        let layout = try connection.query(
            """
            SELECT split_part(logicalrelid::text, '.', 2) || ':' || partmethod::text || ':'
                   || column_to_column_name(logicalrelid, partkey)
            FROM pg_dist_partition WHERE logicalrelid::text LIKE $1 || '.%' ORDER BY 1
            """, [schema]
        ).map { $0[0] ?? "" }
        #expect(
            layout == [
                "customers:h:customer_id", "referral_coupons:h:coupon_code", "referral_orders:h:referrer_id",
                "referral_rejections:h:referrer_id", "referral_sync_changes:h:colocation_key",
                "referral_sync_event_notes:h:colocation_key", "referral_sync_row_arrivals:h:colocation_key",
                "referrals:h:referrer_id",
            ])
        let groups = try connection.query(
            "SELECT count(DISTINCT colocationid) FROM pg_dist_partition WHERE logicalrelid::text LIKE $1 || '.%'",
            [schema])
        #expect(groups.first?[0] == "1", "one co-location group: a customer's rows and notes on one node")
        let nodes = try connection.query(
            "SELECT count(DISTINCT nodeport) FROM citus_shards WHERE table_name::text LIKE $1 || '.%'", [schema])
        #expect(nodes.first?[0] == "2", "spread over both workers")
    }

    /// The rows every note table holds, without their times: what a change was noted as.
    func notes(_ connection: PostgresConnection, in store: String) throws -> [String] {
        try connection.query(
            """
            SELECT 'change ' || concat_ws(' ', customer_id, referral_id, everything, why)
            FROM "\(store)".referral_sync_changes
            UNION ALL SELECT 'event ' || source || ' ' || key FROM "\(store)".referral_sync_event_notes
            UNION ALL SELECT 'arrival ' || concat_ws(' ', source, key, first_seen = '-infinity',
                                                     last_changed = first_seen, deleted_at IS NOT NULL)
            FROM "\(store)".referral_sync_row_arrivals
            ORDER BY 1
            """
        ).map { $0[0] ?? "" }
    }

    @Test func aStoreDistributedByRowNotesTheSameChangesAsOneServer() async throws {
        let oneServer = schema + "_one_server"
        try await migratePlainStore(schema)
        try await migratePlainStore(oneServer)
        let loader = try loader()
        defer { loader.close() }
        // The one-server store: PostgreSQL's own tables on the coordinator.
        let reference = try coordinator()
        defer { reference.close() }
        try reference.run("SET search_path = \"\(oneServer)\"")
        // Rows loaded before the store is distributed: distributing it notes none of them again.
        let before = [
            """
            INSERT INTO customers (customer_id, email, opted_in_at) VALUES ('cus_1', 'ann@example.com', '2024-01-01Z'),
                ('cus_2', 'bob@example.com', NULL), ('cus_3', 'cy@example.com', NULL), ('cus_4', 'dee@example.com', NULL)
            """,
            """
            INSERT INTO referrals (referral_id, referrer_id, recipient_email, channel, created_at) VALUES
                ('ref_1', 'cus_1', 'bob@example.com', 'email', '2024-01-02Z'),
                ('ref_2', 'cus_1', 'eve@example.com', 'sms', '2024-01-02Z'),
                ('ref_3', 'cus_3', 'fay@example.com', 'email', '2024-01-02Z'),
                ('ref_4', 'cus_4', 'gus@example.com', 'email', '2024-01-02Z')
            """,
            """
            INSERT INTO referral_orders (order_id, referral_id, order_number, total_price, currency, redeemed_at) VALUES
                ('ord_1', 'ref_1', '1001', 20.00, 'USD', '2024-01-03Z'),
                ('ord_2', 'ref_1', '1002', 20.00, 'USD', '2024-01-03Z')
            """,
            """
            INSERT INTO referral_rejections (referral_id, rejection_type, reason, rejected_at) VALUES
                ('ref_2', 'fraud', 'self', '2024-01-05Z'), ('ref_4', 'fraud', 'self', '2024-01-05Z')
            """,
        ]
        for statement in before {
            try loader.run(statement)
            try reference.run(statement)
        }
        let distributing = try distributingSession(schema)
        defer { distributing.close() }
        try distributing.query("SELECT referral_sync_distribute_by_customer(4)")
        // Every migrate re-applies the definitions, the change-note triggers included: on distributed tables too.
        let (status, message) = await runCommand(
            ["migrate", "--schema", schema], environment: with("-c citus.enable_unsafe_triggers=on"))
        try #require(status == .success, "\(message)")
        // The loader's referrer column is in the one-server store too (migration 0019), optional there.
        // Then the same statements into each, rows on both workers in most of them: inserts, updates, deletes (one
        // transaction), truncations, and a row loaded again after its table was truncated.
        let after = [
            """
            INSERT INTO referral_orders (order_id, referral_id, referrer_id, order_number, total_price, currency,
                                         redeemed_at)
            VALUES ('ord_3', 'ref_3', 'cus_3', '1003', 30.00, 'USD', '2024-01-03Z')
            """,
            """
            INSERT INTO referral_coupons (coupon_code, referral_id, customer_id, role, issued_at) VALUES
                ('C1', 'ref_1', 'cus_1', 'referrer', '2024-01-03Z'), ('C2', 'ref_3', 'cus_3', 'referrer', '2024-01-03Z'),
                ('C3', 'ref_3', NULL, 'recipient', '2024-01-03Z')
            """,
            "UPDATE customers SET first_name = 'Flo' WHERE customer_id IN ('cus_2', 'cus_4')",
            "UPDATE referral_orders SET total_price = 25 WHERE order_id IN ('ord_2', 'ord_3')",
            "UPDATE referral_coupons SET description = 'thanks' WHERE coupon_code IN ('C1', 'C3')",
            """
            BEGIN;
            DELETE FROM referral_orders WHERE order_id IN ('ord_1', 'ord_3');
            DELETE FROM referral_rejections WHERE referral_id = 'ref_4';
            COMMIT
            """,
            "TRUNCATE referral_coupons",
            "TRUNCATE referral_rejections",
            """
            INSERT INTO referral_rejections (referral_id, referrer_id, rejection_type, reason, rejected_at)
            VALUES ('ref_4', 'cus_4', 'fraud', 'again', '2024-01-06Z')
            """,
        ]
        for statement in after {
            try loader.run(statement)
            try reference.run(statement)
        }
        let distributed = try notes(loader, in: schema)
        #expect(distributed == (try notes(reference, in: oneServer)))
        #expect(distributed.count == 61, "\(distributed)")
        #expect(distributed.contains("change t referral_rejections was truncated"))
        #expect(distributed.contains("arrival referral_orders ord_3 f f t"), "deleted")
        // Each note sits with the row it notes: keyed by that row's distribution value, the referrer of an order
        // (for rows loaded before, the referrer distributing the store filled in).
        let keys = try loader.query(
            """
            SELECT source || ' ' || key || ' ' || colocation_key FROM referral_sync_row_arrivals
            WHERE key IN ('ref_2', 'ord_2', 'ord_3', 'C2') ORDER BY 1
            """
        ).map { $0[0] ?? "" }
        #expect(
            keys == [
                "referral_coupons C2 C2", "referral_orders ord_2 cus_1", "referral_orders ord_3 cus_3",
                "referral_rejections ref_2 cus_1", "referrals ref_2 cus_1",
            ])
    }
}

extension CitusTests {
    /// Moves the shard of `customers` holding `customer` to the other worker with Citus's own tool, and with it the
    /// co-located shards (its referrals, orders, rejections, coupons and change notes); returns the new node's port.
    @discardableResult
    func moveShardsToTheOtherWorker(holding customer: String) throws -> String {
        let coordinator = try coordinator()
        defer { coordinator.close() }
        let placement = {
            try coordinator.query(
                """
                SELECT s.shardid, s.nodeport FROM citus_shards s
                WHERE s.shardid = get_shard_id_for_distribution_column($1::regclass, $2::text)
                """, ["\"\(schema)\".customers", customer]
            ).first
        }
        let from = try #require(try placement())
        let to = try #require(citusWorkers?.split(separator: " ").map(String.init).first { $0 != from[1] })
        try coordinator.query(
            """
            SELECT citus_move_shard_placement($1::bigint, '127.0.0.1', $2::int, '127.0.0.1', $3::int,
                                              shard_transfer_mode => 'block_writes')
            """, [from[0], from[1], to])
        #expect(try placement()?[1] == to, "the customer's shard on the other worker")
        return to
    }

    @Test func aStoreDistributedByRowSyncsOnlyWhatChangedAcrossAShardMove() async throws {
        let store = try await SyncedStore(self, layout: .distributedByRow)
        let sent = try await store.syncTwiceAndFindNoDrift()
        let events = await store.command(["events", "--backfill"])
        #expect([.success, .needsAttention].contains(events.status), "\(events.message)")
        let delivered = store.simulator.acceptedEvents().count
        #expect(delivered > 300)

        // A new successful referral for a referrer who has one already, after the shards holding the referrer
        // moved to the other worker; the loader names the referrer of the order (README: the added column of a
        // store distributed by row). The order's change note sits with the referrer's rows, on the new node, and
        // the next run recomputes that referrer alone.
        let referrer = try #require(
            try store.loader.query(
                """
                SELECT v.customer_id FROM referral_sync_participant_values v
                WHERE v.problem IS NULL AND v.successful_referrals::int > 0 ORDER BY 1 LIMIT 1
                """
            ).first?[0])
        let before = try store.loader.query(
            "SELECT successful_referrals FROM referral_sync_participant_values WHERE customer_id = $1", [referrer])
        try moveShardsToTheOtherWorker(holding: referrer)
        try store.loader.execute(
            """
            INSERT INTO referrals (referral_id, referrer_id, recipient_email, channel, created_at)
                VALUES ('row_1', $1, 'new.friend@example.net', 'email', '2024-06-29T20:00Z')
            """, [referrer])
        try store.loader.execute(
            """
            INSERT INTO referral_orders (order_id, referral_id, referrer_id, total_price, currency, redeemed_at)
                VALUES ('row_o1', 'row_1', $1, 40.00, 'USD', '2024-06-29T22:00Z')
            """, [referrer])
        let third = await store.command(["run"])
        #expect(third.status == .success, "\(third.message)")
        #expect(store.sent == sent + 1, "only the referrer whose values changed")
        let after = try store.loader.query(
            "SELECT successful_referrals FROM referral_sync_participant_values WHERE customer_id = $1", [referrer])
        #expect(Int(after.first?[0] ?? "") == (Int(before.first?[0] ?? "") ?? -1) + 1)

        let revenue = await store.command(["revenue", "--by", "month"])
        #expect(revenue.status == .success, "the report reconciles with the attributes: \(revenue.message)")
        // The new referral's events (its invitation, the referral sent, the reward), found through the notes its
        // rows wrote on the new node, and no event of before twice.
        let again = await store.command(["events"])
        #expect([.success, .needsAttention].contains(again.status), "\(again.message)")
        let ids = store.simulator.acceptedEvents()
        #expect(ids.count == delivered + 3, "the new referral's three events: \(ids.suffix(ids.count - delivered))")
        #expect(Set(ids).count == ids.count, "no event twice, across the move")
    }
}
