import Foundation
import Postgres
import ReferralModel
import ReferralStore
import TestSupport
import Testing

@testable import ReferralSyncCLI
@testable import ReferralSyncJob

/// The kept recompute (tables of migration 0006, sql/definitions/80_refresh.sql): after any mix of inserts, updates
/// and deletes in the four input tables, and an as-of that moves both ways, bringing it up to date incrementally
/// gives exactly the rows a full recompute gives; and the cases that must recompute everyone do.
@Suite struct IncrementalRecomputeTests {
    /// Changes of every kind the triggers must see, each picking its rows by a hash of the salt `$1`: new and
    /// shared emails, lost identities, opt-ins, links, referrals moved between referrers, self-referrals, dates
    /// moved across the as-of, orders added, repriced, recurrencied and deleted, rejections added, moved and
    /// deleted, a whole customer deleted.
    static let changes: [[String]] = [
        [
            """
            UPDATE customers SET email = (SELECT c2.email FROM customers c2 WHERE c2.email IS NOT NULL
                                          ORDER BY md5(c2.customer_id || $1) LIMIT 1)
            WHERE customer_id IN (SELECT customer_id FROM customers ORDER BY md5(customer_id || $1 || 'e') LIMIT 3)
            """
        ],
        [
            """
            UPDATE customers SET email = ' New.' || $1 || customer_id || '@Example.com '
            WHERE customer_id IN (SELECT customer_id FROM customers ORDER BY md5(customer_id || $1 || 'n') LIMIT 4)
            """
        ],
        [
            """
            UPDATE customers SET email = NULL, phone = CASE WHEN length($1) % 2 = 0 THEN NULL ELSE '555 0100' END
            WHERE customer_id IN (SELECT customer_id FROM customers ORDER BY md5(customer_id || $1 || 'i') LIMIT 2)
            """
        ],
        [
            """
            UPDATE customers SET phone = (SELECT c2.phone FROM customers c2 WHERE c2.phone IS NOT NULL
                                          ORDER BY md5(c2.customer_id || $1 || 'p') LIMIT 1)
            WHERE customer_id IN (SELECT customer_id FROM customers ORDER BY md5(customer_id || $1 || 'q') LIMIT 2)
            """
        ],
        [
            """
            UPDATE customers
            SET opted_in_at = CASE WHEN opted_in_at IS NULL THEN timestamptz '2024-03-01 10:00:00Z' ELSE NULL END
            WHERE customer_id IN (SELECT customer_id FROM customers ORDER BY md5(customer_id || $1 || 'o') LIMIT 4)
            """
        ],
        [
            """
            UPDATE customers SET shareable_link = 'https://shop.example/r/' || $1
            WHERE customer_id IN (SELECT customer_id FROM customers ORDER BY md5(customer_id || $1 || 'l') LIMIT 3)
            """
        ],
        [
            """
            INSERT INTO referrals (referral_id, referrer_id, recipient_email, recipient_customer_id, channel, created_at)
            SELECT 'new_ref_' || $1 || '_' || customer_id, customer_id, 'friend.' || $1 || '@example.net', NULL,
                   'email', timestamptz '2024-05-01 09:00:00Z'
            FROM customers ORDER BY md5(customer_id || $1 || 'r') LIMIT 3
            """,
            """
            INSERT INTO referral_orders (order_id, referral_id, total_price, currency, redeemed_at)
            SELECT 'new_ord_' || referral_id, referral_id, 19.995, 'USD', timestamptz '2024-05-02 09:00:00Z'
            FROM referrals WHERE referral_id LIKE 'new_ref_' || $1 || '_%'
            """,
        ],
        [
            """
            UPDATE referral_orders SET total_price = total_price + 1.005
            WHERE order_id IN (SELECT order_id FROM referral_orders ORDER BY md5(order_id || $1) LIMIT 5)
            """
        ],
        [
            """
            UPDATE referral_orders SET currency = CASE currency WHEN 'USD' THEN 'CAD' ELSE 'USD' END
            WHERE order_id IN (SELECT order_id FROM referral_orders ORDER BY md5(order_id || $1 || 'c') LIMIT 3)
            """
        ],
        [
            """
            UPDATE referral_orders SET redeemed_at = redeemed_at + interval '9 days'
            WHERE order_id IN (SELECT order_id FROM referral_orders ORDER BY md5(order_id || $1 || 'd') LIMIT 4)
            """
        ],
        [
            """
            DELETE FROM referral_orders
            WHERE order_id IN (SELECT order_id FROM referral_orders ORDER BY md5(order_id || $1 || 'x') LIMIT 3)
            """
        ],
        [
            """
            INSERT INTO referral_rejections (referral_id, rejection_type, reason, rejected_at)
            SELECT r.referral_id, 'manual', 'test', timestamptz '2024-06-20 00:00:00Z'
            FROM referrals r
            WHERE NOT EXISTS (SELECT 1 FROM referral_rejections j WHERE j.referral_id = r.referral_id)
            ORDER BY md5(r.referral_id || $1) LIMIT 3
            """
        ],
        [
            """
            UPDATE referral_rejections SET rejected_at = rejected_at + interval '12 days'
            WHERE referral_id IN (SELECT referral_id FROM referral_rejections ORDER BY md5(referral_id || $1) LIMIT 2)
            """
        ],
        [
            """
            DELETE FROM referral_rejections
            WHERE referral_id IN (SELECT referral_id FROM referral_rejections ORDER BY md5(referral_id || $1 || 'x')
                                  LIMIT 2)
            """
        ],
        [
            """
            UPDATE referrals
            SET referrer_id = (SELECT customer_id FROM customers ORDER BY md5(customer_id || $1 || 'm') LIMIT 1)
            WHERE referral_id IN (SELECT referral_id FROM referrals ORDER BY md5(referral_id || $1) LIMIT 2)
            """
        ],
        [
            """
            UPDATE referrals r SET recipient_email = upper((SELECT c.email FROM customers c
                                                            WHERE c.customer_id = r.referrer_id))
            WHERE referral_id IN (SELECT referral_id FROM referrals ORDER BY md5(referral_id || $1 || 's') LIMIT 2)
            """
        ],
        [
            """
            UPDATE referrals SET created_at = created_at + interval '15 days'
            WHERE referral_id IN (SELECT referral_id FROM referrals ORDER BY md5(referral_id || $1 || 't') LIMIT 3)
            """
        ],
        [
            """
            DELETE FROM referral_orders WHERE referral_id IN (
                SELECT referral_id FROM referrals WHERE referrer_id =
                    (SELECT customer_id FROM customers ORDER BY md5(customer_id || $1 || 'gone') LIMIT 1))
            """,
            """
            DELETE FROM referral_rejections WHERE referral_id IN (
                SELECT referral_id FROM referrals WHERE referrer_id =
                    (SELECT customer_id FROM customers ORDER BY md5(customer_id || $1 || 'gone') LIMIT 1))
            """,
            """
            DELETE FROM referrals
            WHERE referrer_id = (SELECT customer_id FROM customers ORDER BY md5(customer_id || $1 || 'gone') LIMIT 1)
            """,
            """
            DELETE FROM customers
            WHERE customer_id = (SELECT customer_id FROM customers ORDER BY md5(customer_id || $1 || 'gone') LIMIT 1)
            """,
        ],
    ]

    @Test(arguments: [UInt64(11), 2_024])
    func incrementalRefreshGivesWhatAFullRecomputeGives(seed: UInt64) throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        _ = try Migrations.apply(on: connection)
        try FuzzTests.load(FuzzHistory(seed: seed), into: database)
        let usd = try #require(Currency(code: "USD"))
        let asOf = FuzzHistory.asOf
        // Moves both ways, across the rows dated just after the as-of (FuzzHistory puts some there).
        let asOfs = [asOf, asOf + 3 * FuzzHistory.day, asOf - 20 * FuzzHistory.day, asOf + 11 * FuzzHistory.day]
        func parameters(_ round: Int) -> RecomputeParameters {
            RecomputeParameters(
                asOf: Timestamp(microsecondsSinceEpoch: asOfs[round % asOfs.count]), currency: usd, phoneRegion: "US")
        }

        let first = try ParticipantStateStore.refresh(on: connection, parameters(0), full: false)
        #expect(first.mode == .full)
        #expect(try connection.query("SELECT count(*) FROM referral_sync_participant_values").first?.int(0) ?? 0 > 100)
        var random = FuzzRandom(seed: seed)
        var recomputedInAll = 0
        for round in 1...8 {
            let picked = Self.changes.indices.filter { _ in random.unit() < 0.5 }
            for index in picked {
                for statement in Self.changes[index] {
                    _ = try connection.execute(statement, ["\(seed)-\(round)-\(index)"])
                }
            }
            let refresh = try ParticipantStateStore.refresh(on: connection, parameters(round), full: false)
            #expect(refresh.mode == .incremental, "round \(round)")
            let customers = try #require(try connection.query("SELECT count(*) FROM customers").first?.int(0))
            #expect(refresh.recomputed < customers, "round \(round): only some customers are recomputed")
            recomputedInAll += refresh.recomputed
            #expect(try connection.query("SELECT count(*) FROM referral_sync_changes").first?.int(0) == 0)
            let differences = try Self.differencesFromAFullRecompute(on: connection, parameters(round))
            #expect(differences.isEmpty, "round \(round), changes \(picked): \(differences)")
        }
        #expect(recomputedInAll > 0)
    }

    @Test func everyoneIsRecomputedWhenIncrementalWouldNotBeSafe() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        _ = try Migrations.apply(on: connection)
        try FuzzTests.load(FuzzHistory(seed: 5), into: database)
        let usd = try #require(Currency(code: "USD"))
        let jpy = try #require(Currency(code: "JPY"))
        let usdNow = RecomputeParameters(asOf: Timestamp(microsecondsSinceEpoch: FuzzHistory.asOf), currency: usd)
        func refresh(_ parameters: RecomputeParameters, full: Bool = false) throws -> StateRefresh {
            try ParticipantStateStore.refresh(on: connection, parameters, full: full)
        }

        #expect(try refresh(usdNow).reason == "no earlier state (first run, or emptied after a crash)")
        let unchanged = try refresh(usdNow)
        #expect(unchanged == StateRefresh(mode: .incremental, reason: nil, recomputed: 0))
        #expect(try refresh(usdNow, full: true).reason == "asked for (--full-recompute)")
        var jpyNow = usdNow
        jpyNow.currency = jpy
        #expect(try refresh(jpyNow).reason == "the shop currency changed")
        var region = jpyNow
        region.phoneRegion = "US"
        #expect(try refresh(region).reason == "the default phone region changed")
        #expect(try refresh(region).mode == .incremental)
        try connection.run("TRUNCATE referral_rejections")
        #expect(try refresh(region).reason == "referral_rejections was truncated")
        try ParticipantStateStore.requestFullRecompute(on: connection, reason: "a test asked")
        #expect(try refresh(region).reason == "a test asked")
        // What a crash leaves of the unlogged tables: nothing.
        try connection.run("DELETE FROM referral_sync_state")
        #expect(try refresh(region).mode == .full)
        #expect(try Self.differencesFromAFullRecompute(on: connection, region).isEmpty)
    }

    /// A change committed while a refresh runs is not in that refresh's snapshot: its note must survive the
    /// refresh, and the next one must pick it up.
    @Test func aChangeCommittedDuringARefreshIsLeftForTheNextOne() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let refresher = try database.connect()
        let writer = try database.connect()
        defer {
            refresher.close()
            writer.close()
        }
        _ = try Migrations.apply(on: refresher)
        try refresher.run(
            """
            INSERT INTO customers (customer_id, email, opted_in_at) VALUES ('c1', 'one@example.com', '2024-01-01Z');
            INSERT INTO referrals (referral_id, referrer_id, recipient_email, created_at)
                VALUES ('r1', 'c1', 'friend@example.net', '2024-02-01Z');
            """)
        let usd = try #require(Currency(code: "USD"))
        let parameters = RecomputeParameters(
            asOf: Timestamp(microsecondsSinceEpoch: 1_719_705_600_000_000), currency: usd)
        #expect(try ParticipantStateStore.refresh(on: refresher, parameters, full: false).mode == .full)

        // The refresh's snapshot is taken by its first statement; the order commits after it.
        try refresher.run("BEGIN ISOLATION LEVEL REPEATABLE READ")
        _ = try refresher.query("SELECT count(*) FROM referral_sync_changes")
        _ = try writer.execute(
            "INSERT INTO referral_orders (order_id, referral_id, total_price, currency, redeemed_at) "
                + "VALUES ('o1', 'r1', 10, 'USD', '2024-02-02Z')")
        let during = try refresher.query(
            "SELECT recomputed FROM referral_sync_refresh($1::timestamptz, 'USD', 2, NULL, false)",
            [parameters.asOf.description])
        try refresher.run("COMMIT")
        #expect(during.first?.int(0) == 0, "the order is not in that snapshot")
        #expect(try writer.query("SELECT count(*) FROM referral_sync_changes").first?.int(0) == 1)

        let next = try ParticipantStateStore.refresh(on: refresher, parameters, full: false)
        #expect(next == StateRefresh(mode: .incremental, reason: nil, recomputed: 1))
        let values = try refresher.query(
            "SELECT successful_referrals, total_successful_referral_revenue FROM referral_sync_participant_values")
        #expect(values.first?[0] == "1" && values.first?[1] == "10.00")
        #expect(try Self.differencesFromAFullRecompute(on: refresher, parameters).isEmpty)
    }

    /// PostgreSQL's timestamptz accepts ±infinity; such rows are rejected with a readable detail, and neither a full
    /// nor an incremental refresh fails on them.
    @Test func infiniteTimestampsAreRejectedRowsNotFailures() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        _ = try Migrations.apply(on: connection)
        try connection.run(
            """
            INSERT INTO customers (customer_id, email, opted_in_at) VALUES ('c1', 'one@example.com', '2024-01-01Z');
            INSERT INTO referrals (referral_id, referrer_id, recipient_email, created_at) VALUES
                ('r-future', 'c1', 'a@example.net', 'infinity'), ('r1', 'c1', 'b@example.net', '2024-02-01Z'),
                ('r2', 'c1', 'c@example.net', '2024-02-01Z'), ('r3', 'c1', 'd@example.net', '-infinity');
            INSERT INTO referral_orders (order_id, referral_id, total_price, currency, redeemed_at) VALUES
                ('o-future', 'r1', 5, 'USD', 'infinity'), ('o1', 'r1', 10, 'USD', '2024-02-02Z'),
                ('o2', 'r2', 20, 'USD', '2024-02-03Z'), ('o3', 'r3', 30, 'USD', '2024-02-03Z');
            INSERT INTO referral_rejections (referral_id, rejected_at) VALUES ('r1', '-infinity'), ('r2', 'infinity');
            """)
        let usd = try #require(Currency(code: "USD"))
        let parameters = RecomputeParameters(
            asOf: Timestamp(microsecondsSinceEpoch: 1_719_705_600_000_000), currency: usd)
        #expect(try ParticipantStateStore.refresh(on: connection, parameters, full: false).mode == .full)
        let details = Dictionary(
            try connection.query("SELECT key, detail FROM referral_sync_rejected_rows").map {
                ($0[0] ?? "", $0[1] ?? "")
            },
            uniquingKeysWith: { first, _ in first })
        #expect(details["r-future"] == "created_at infinity is after --as-of")
        #expect(details["o-future"] == "redeemed_at infinity is after --as-of")
        #expect(details["o1"] == "referral r1 was rejected at -infinity")
        #expect(details["r2"] == "rejected_at infinity is after --as-of")
        // r3 was created at -infinity, before its order: it counts, with o2 (r2's rejection is after the as-of).
        let values = try connection.query(
            "SELECT successful_referrals, total_successful_referral_revenue "
                + "FROM referral_sync_participant_values")
        #expect(values.first?[0] == "2" && values.first?[1] == "50.00")

        try connection.run("UPDATE referral_orders SET redeemed_at = '-infinity' WHERE order_id = 'o2'")
        #expect(try ParticipantStateStore.refresh(on: connection, parameters, full: false).mode == .incremental)
        #expect(
            try connection.query("SELECT detail FROM referral_sync_rejected_rows WHERE key = 'o2'").first?[0]
                == "redeemed_at -infinity is not a point in time")
        #expect(try Self.differencesFromAFullRecompute(on: connection, parameters).isEmpty)
    }

    /// Shards started together without `--as-of` each count as of their own "now", so each refreshes for a
    /// slightly different as-of: each must read the refresh it made, not another shard's.
    @Test func concurrentShardsWithoutAnAsOfEachReadTheirOwnRefresh() async throws {
        let harness = try await JobHarness()
        try harness.insertParticipants(30)
        let environment = harness.environment
        // Eight rounds: with the reads not tied to their own refresh, one run of this test in two failed at four.
        for round in 0..<8 {
            if round > 0 {
                try harness.database.run(
                    """
                    INSERT INTO referrals (referral_id, referrer_id, recipient_email, created_at)
                    SELECT 'r-more-\(round)-' || customer_id, customer_id, 'more@example.net', now() - interval '1 hour'
                    FROM customers WHERE customer_id LIKE 'p00%';
                    INSERT INTO referral_orders (order_id, referral_id, total_price, currency, redeemed_at)
                    SELECT 'o-' || referral_id, referral_id, 1, 'USD', now() - interval '1 hour'
                    FROM referrals WHERE referral_id LIKE 'r-more-\(round)-%';
                    """)
            }
            let results = await withTaskGroup(of: String.self) { group in
                for shard in 1...3 {
                    let arguments = [
                        "--shard", "\(shard)/3", "--currency", "USD",
                        "--reports-dir", harness.reportsDirectory + "/shard-\(shard)",
                    ]
                    group.addTask {
                        do {
                            let result = try await JobHarness.result(arguments, environment: environment)
                            return result.status == .success ? "ok" : "shard \(shard): \(result.message)"
                        } catch {
                            return "shard \(shard): \(error)"
                        }
                    }
                }
                var all: [String] = []
                for await result in group { all.append(result) }
                return all
            }
            #expect(results.allSatisfy { $0 == "ok" }, "round \(round): \(results)")
        }
        // Together they sent everything: a whole run finds nothing left.
        let (status, reports) = await harness.run(["--currency", "USD"])
        #expect(status == .success)
        #expect(try #require(reports).csv("changes.csv").isEmpty)
    }

    /// Only `run` accounts for rows, so only its refresh counts the input tables (at ten million customers the
    /// counting is most of a refresh with nothing to recompute): `drift` and `revenue` bring the kept rows up to date
    /// and keep the last counts, and the next run counts again and adds up.
    @Test func onlyRunCountsTheInputTables() async throws {
        let harness = try await JobHarness()
        try harness.database.run(
            "INSERT INTO customers (customer_id, email, opted_in_at) VALUES ('c1', 'one@example.com', '2024-01-01Z')")
        let options = ["--currency", "USD", "--as-of", "2024-06-01T00:00:00Z"]
        #expect(await harness.run(["--dry-run"] + options).0 == .success)
        func customersRead() throws -> String? {
            try harness.database.query("SELECT customers_read FROM referral_sync_state").first?[0]
        }
        #expect(try customersRead() == "1")

        try harness.database.run(
            "INSERT INTO customers (customer_id, email, opted_in_at) VALUES ('c2', 'two@example.com', '2024-01-01Z')")
        // Drift finds c2 unsent (its status says so); what matters here is that its refresh ran.
        _ = await harness.drift(options)
        #expect(
            try harness.database.query("SELECT 1 FROM referral_sync_participant_values WHERE customer_id = 'c2'")
                .count == 1, "drift's refresh recomputed c2")
        let revenue = await runCommand(
            ["revenue", "--reports-dir", harness.reportsDirectory] + options, environment: harness.environment)
        #expect(revenue.0 == .success, "\(revenue.1)")
        #expect(try customersRead() == "1", "drift and revenue keep the last counts")

        let (status, reports) = await harness.run(["--dry-run"] + options)
        #expect(status == .success)
        #expect(try customersRead() == "2")
        let summary = try #require(reports).text("summary.md")
        #expect(!summary.contains("do not add up"), "\(summary)")
        #expect(try SummaryTable.inputRows(summary)["customers"]?.read == 2)
    }

    /// A change the triggers never saw (a load with triggers disabled) shows in the row accounting, and the
    /// next run recomputes everyone and adds up again.
    @Test func rowsTheTriggersMissedAreFoundAndTheNextRunRecomputesEveryone() async throws {
        let harness = try await JobHarness()
        try harness.database.run(
            """
            INSERT INTO customers (customer_id, email, opted_in_at) VALUES
                ('c1', 'one@example.com', '2024-01-01Z'), ('c2', 'two@example.com', '2024-01-01Z');
            INSERT INTO referrals (referral_id, referrer_id, recipient_email, created_at)
                VALUES ('r1', 'c1', 'friend@example.net', '2024-02-01Z');
            INSERT INTO referral_orders (order_id, referral_id, total_price, currency, redeemed_at)
                VALUES ('o1', 'r1', 10, 'USD', '2024-02-02Z');
            """)
        let options = ["--dry-run", "--currency", "USD", "--as-of", "2024-06-01T00:00:00Z"]
        let (first, firstReports) = await harness.run(options)
        #expect(first == .success)
        #expect(try #require(firstReports).text("summary.md").contains("- Recompute: full (no earlier state"))

        try harness.database.run(
            """
            ALTER TABLE referrals DISABLE TRIGGER USER;
            INSERT INTO referrals (referral_id, referrer_id, recipient_email, created_at)
                VALUES ('r2', 'c2', 'friend2@example.net', '2024-03-01Z');
            ALTER TABLE referrals ENABLE TRIGGER USER;
            """)
        let (_, missed) = await harness.run(options)
        let missedSummary = try SummaryTable.inputRows(try #require(missed).text("summary.md"))
        let referrals = try #require(missedSummary["referrals"])
        #expect(referrals.read == 2 && referrals.counted == 1, "the row the refresh never saw shows as unaccounted")

        let (_, healed) = await harness.run(options)
        let healedFiles = try #require(healed)
        #expect(try healedFiles.text("summary.md").contains("found input rows that do not add up"))
        #expect(try SummaryTable.inputRows(try healedFiles.text("summary.md"))["referrals"]?.counted == 2)
        #expect(try JobHarness.row(healed, "attributes.csv", "c2")?["customer_id"] == "c2")

        // A normal change afterwards is incremental again, and recomputes only the one customer.
        try harness.database.run(
            "INSERT INTO referral_orders (order_id, referral_id, total_price, currency, redeemed_at) "
                + "VALUES ('o2', 'r2', 5, 'USD', '2024-03-02Z')")
        let (_, incremental) = await harness.run(options)
        let files = try #require(incremental)
        #expect(try files.text("summary.md").contains("- Recompute: incremental: 1 customers recomputed"))
        #expect(try JobHarness.row(incremental, "attributes.csv", "c2")?["successful_referrals"] == "1")
        let history = try harness.database.query(
            "SELECT outcome_counts->>'recompute', outcome_counts->>'recomputed_customers' FROM referral_sync_runs "
                + "ORDER BY run_id DESC LIMIT 1")
        #expect(history.first?[0] == "incremental" && history.first?[1] == "1")
    }

    /// The kept rows against a full recompute on the same snapshot (rolled back): the rows only one side has.
    static func differencesFromAFullRecompute(on connection: PostgresConnection, _ parameters: RecomputeParameters)
        throws -> [String]
    {
        try connection.run("BEGIN ISOLATION LEVEL REPEATABLE READ")
        defer { try? connection.run("ROLLBACK") }
        try connection.run(
            """
            CREATE TEMP TABLE kept_values ON COMMIT DROP AS SELECT * FROM referral_sync_participant_values;
            CREATE TEMP TABLE kept_rejected ON COMMIT DROP AS SELECT * FROM referral_sync_rejected_rows;
            CREATE TEMP TABLE kept_lines ON COMMIT DROP AS SELECT * FROM referral_sync_revenue_kept_lines;
            CREATE TEMP TABLE kept_referrals ON COMMIT DROP AS SELECT * FROM referral_sync_counted_referrals;
            CREATE TEMP TABLE kept_state ON COMMIT DROP AS
                SELECT customers_read, customers_not_participants, referrals_read, orders_read, rejections_read,
                       rejections_counted FROM referral_sync_state;
            """)
        let full = try connection.query(
            "SELECT mode FROM referral_sync_refresh($1::timestamptz, $2::text, $3::integer, $4::text, true)",
            [
                parameters.asOf.description, parameters.currency.code, String(parameters.currency.minorUnits),
                parameters.phoneRegion,
            ])
        guard full.first?[0] == "full" else { return ["the full recompute did not run"] }
        let rows = try connection.query(
            """
            (SELECT 'kept only: ' || k::text FROM (SELECT * FROM kept_values
                EXCEPT ALL SELECT * FROM referral_sync_participant_values) k)
            UNION ALL
            (SELECT 'full only: ' || f::text FROM (SELECT * FROM referral_sync_participant_values
                EXCEPT ALL SELECT * FROM kept_values) f)
            UNION ALL
            (SELECT 'kept only: ' || k::text FROM (SELECT * FROM kept_rejected
                EXCEPT ALL SELECT * FROM referral_sync_rejected_rows) k)
            UNION ALL
            (SELECT 'full only: ' || f::text FROM (SELECT * FROM referral_sync_rejected_rows
                EXCEPT ALL SELECT * FROM kept_rejected) f)
            UNION ALL
            (SELECT 'kept only: ' || k::text FROM (SELECT * FROM kept_lines
                EXCEPT ALL SELECT * FROM referral_sync_revenue_kept_lines) k)
            UNION ALL
            (SELECT 'full only: ' || f::text FROM (SELECT * FROM referral_sync_revenue_kept_lines
                EXCEPT ALL SELECT * FROM kept_lines) f)
            UNION ALL
            (SELECT 'kept only: ' || k::text FROM (SELECT * FROM kept_referrals
                EXCEPT ALL SELECT * FROM referral_sync_counted_referrals) k)
            UNION ALL
            (SELECT 'full only: ' || f::text FROM (SELECT * FROM referral_sync_counted_referrals
                EXCEPT ALL SELECT * FROM kept_referrals) f)
            UNION ALL
            -- The kept lines against the line rule evaluated over everyone (90_revenue_report).
            (SELECT 'lines only kept: ' || k::text FROM (
                SELECT referral_id, referrer_id, order_id, redeemed_at, dated_at, sign, total_price, discount_amount,
                       booked_only FROM kept_lines
                EXCEPT ALL SELECT * FROM referral_sync_revenue_lines($1::timestamptz, $2::text, true)) k)
            UNION ALL
            (SELECT 'lines only by the rule: ' || f::text FROM (
                SELECT * FROM referral_sync_revenue_lines($1::timestamptz, $2::text, true)
                EXCEPT ALL SELECT referral_id, referrer_id, order_id, redeemed_at, dated_at, sign, total_price,
                                  discount_amount, booked_only FROM kept_lines) f)
            UNION ALL
            (SELECT 'counts kept: ' || k::text FROM (SELECT * FROM kept_state
                EXCEPT ALL SELECT customers_read, customers_not_participants, referrals_read, orders_read,
                                  rejections_read, rejections_counted FROM referral_sync_state) k)
            """, [parameters.asOf.description, parameters.currency.code])
        return rows.map { $0[0] ?? "" }
    }
}
