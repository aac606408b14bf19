import Foundation
import Postgres
import ReferralStore
import ReferralSyncJob
import TestSupport
import Testing

/// `revenue --schemas` (README "Finance": one report across stores): two stores, USD and EUR, in one database.
@Suite struct RevenueStoresTests {
    /// us: 100.00 USD in January, 40.00 USD in February; eu: 70.00 EUR in January.
    static func twoStores() async throws -> (TestDatabase, String) {
        let database = try TestDatabase.create(prefix: "revstores")
        let reports = try makeTemporaryFolder("revstores")
        for store in ["us", "eu"] {
            let migrated = await runCommand(
                ["migrate", "--schema", store, "--create-schema"], environment: ["DATABASE_URL": database.conninfo])
            #expect(migrated.status == .success, "\(migrated.message)")
        }
        try database.run(
            """
            INSERT INTO us.customers (customer_id, opted_in_at) VALUES ('a', '2024-01-01Z'), ('b', '2024-01-01Z');
            INSERT INTO us.referrals (referral_id, referrer_id, created_at)
            VALUES ('r1', 'a', '2025-01-02Z'), ('r2', 'b', '2025-01-03Z');
            INSERT INTO us.referral_orders (order_id, referral_id, total_price, currency, redeemed_at)
            VALUES ('o1', 'r1', 100.00, 'USD', '2025-01-15Z'), ('o2', 'r2', 40.00, 'USD', '2025-02-03Z');
            INSERT INTO eu.customers (customer_id, opted_in_at) VALUES ('x', '2024-01-01Z');
            INSERT INTO eu.referrals (referral_id, referrer_id, created_at) VALUES ('r1', 'x', '2025-01-05Z');
            INSERT INTO eu.referral_orders (order_id, referral_id, total_price, currency, redeemed_at)
            VALUES ('o1', 'r1', 70.00, 'EUR', '2025-01-20Z');
            """)
        return (database, reports)
    }

    static let options = ["--as-of", "2025-03-01T00:00:00Z", "--basis", "booked"]

    static func revenue(
        _ arguments: [String], _ database: TestDatabase, folder: String, _ extra: [String: String] = [:]
    )
        async -> (status: ReferralSyncJob.ExitStatus, message: String, reports: ReportFiles?)
    {
        let result = await runCommand(
            ["revenue", "--reports-dir", folder] + arguments + options,
            environment: ["DATABASE_URL": database.conninfo, "REFERRAL_SYNC_QUIET": "1"].merging(extra) { $1 })
        let latest = (try? FileManager.default.destinationOfSymbolicLink(atPath: folder + "/latest"))
        return (result.status, result.message, latest.map { ReportFiles(path: folder + "/" + $0) })
    }

    @Test func eachStoresFiguresAreItsOwnReportsAndEachCurrencyAddsUp() async throws {
        let (database, reports) = try await Self.twoStores()
        defer { database.drop() }
        var single: [String: [[String: String]]] = [:]
        for store in ["us", "eu"] {
            let report = await Self.revenue(["--schema", store], database, folder: reports + "/" + store)
            #expect(report.status == .success, "\(report.message)")
            single[store] = try requireReports(report.reports).csv("revenue.csv")
        }
        let together = await Self.revenue(["--schemas", "us,eu"], database, folder: reports + "/all")
        #expect(together.status == .success, "\(together.message)")
        let files = try requireReports(together.reports)
        #expect(try files.csv("revenue_us.csv") == single["us"])
        #expect(try files.csv("revenue_eu.csv") == single["eu"])
        let consolidated = try files.csv("consolidated.csv").map {
            figures($0, ["currency", "period", "stores", "successful_referrals", "net_revenue"])
        }
        #expect(
            consolidated == [
                ["EUR", "2025-01-01", "eu", "1", "70.00"], ["EUR", "2025-02-01", "eu", "0", "0.00"],
                ["EUR", "2025-03-01", "eu", "0", "0.00"], ["EUR", "total", "eu", "1", "70.00"],
                ["USD", "2025-01-01", "us", "1", "100.00"], ["USD", "2025-02-01", "us", "1", "40.00"],
                ["USD", "2025-03-01", "us", "0", "0.00"], ["USD", "total", "us", "2", "140.00"],
            ])
        let markdown = try files.text("revenue.md")
        #expect(markdown.contains("## Store `us` (USD)") && markdown.contains("## Store `eu` (EUR)"))
        #expect(
            markdown.contains(
                "2 successful referrals and 140.00 revenue (each referrer rounded once) in the "
                    + "report, 2 and 140.00 in the attributes: equal"), "\(markdown)")
        #expect(
            markdown.contains(
                "1 successful referrals and 70.00 revenue (each referrer rounded once) in the "
                    + "report, 1 and 70.00 in the attributes: equal"), "\(markdown)")
        // --all-schemas finds both (and only them: public has no referral-sync tables here).
        let all = await Self.revenue(["--all-schemas"], database, folder: reports + "/every")
        #expect(all.status == .success, "\(all.message)")
        #expect(try requireReports(all.reports).csv("consolidated.csv").count == 8)
    }

    /// A store's nightly `run` holds its run lock: the report exits 75 and publishes nothing.
    @Test func aStoreWhoseRunHoldsTheLockEndsTheReportWith75() async throws {
        let (database, reports) = try await Self.twoStores()
        defer { database.drop() }
        let holder = try database.connect()
        defer { holder.close() }
        #expect(try holder.tryAdvisoryLock(StoreKeys.key(.run, store: "eu")))
        let report = await Self.revenue(["--schemas", "us,eu"], database, folder: reports)
        #expect(report.status == .locked, "\(report.message)")
        #expect(report.message.contains("holds the lock"), "\(report.message)")
        #expect(report.reports == nil)
    }

    /// A refresh under way in a store (its refresh lock held): the report waits for it, then reports.
    @Test func aRefreshUnderWayIsWaitedFor() async throws {
        let (database, reports) = try await Self.twoStores()
        defer { database.drop() }
        let holder = try database.connect()
        let key = StoreKeys.key(.refresh, store: "eu")
        #expect(try holder.tryAdvisoryLock(key))
        let report = Task { await Self.revenue(["--schemas", "us,eu"], database, folder: reports) }
        let observer = try database.connect()
        defer { observer.close() }
        var waiting = false
        for _ in 0..<600 where !waiting {
            waiting =
                try observer.query(
                    """
                    SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
                      AND ((classid::bigint << 32) | objid::bigint) = $1::bigint
                    """, [String(key)]
                ).first?[0] != "0"
            if !waiting { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(waiting, "the report waits for the refresh lock")
        holder.close()
        let finished = await report.value
        #expect(finished.status == .success, "\(finished.message)")
    }

    @Test func schemasConflictsWithSchema() async throws {
        let (database, reports) = try await Self.twoStores()
        defer { database.drop() }
        let usage = await Self.revenue(["--schemas", "us,eu", "--schema", "us"], database, folder: reports)
        #expect(usage.status == .usage, "\(usage.message)")
        let configuration = await Self.revenue(
            [], database, folder: reports, ["REFERRAL_SYNC_SCHEMAS": "us,eu", "REFERRAL_SYNC_SCHEMA": "us"])
        #expect(configuration.status == .configuration, "\(configuration.message)")
    }
}
