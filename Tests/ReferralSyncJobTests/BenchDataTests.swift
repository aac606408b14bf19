import Foundation
import TestSupport
import Testing

@testable import ReferralSyncCLI
@testable import ReferralSyncJob

/// The benchmark's data generator (scripts/bench/) at a tiny scale: the shape BENCHMARKS.md promises, a job that
/// runs over it, the busy night's 1%, and the SQL ledger shortcut being what a real sync leaves.
@Suite struct BenchDataTests {
    static let benchOptions = ["--as-of", "2025-01-01T00:00:00Z", "--currency", "USD", "--max-rps", "10000"]

    static func script(_ name: String) throws -> String {
        try String(contentsOfFile: repositoryRoot + "/scripts/bench/" + name, encoding: .utf8)
    }

    /// Generates `customers` customers of benchmark data into the harness's database.
    static func generate(_ harness: JobHarness, customers: Int = 1000) throws {
        try harness.database.run("SET bench.participants = \(customers);\n" + script("generate.sql"))
    }

    static func count(_ harness: JobHarness, _ sql: String) throws -> Int {
        try harness.database.query(sql).first?.int(0) ?? -1
    }

    @Test func generatedHistoryHasTheIntendedSizeSkewAndBadRows() async throws {
        let harness = try await JobHarness()
        try Self.generate(harness)
        let referrals = try Self.count(harness, "SELECT count(*) FROM referrals")
        let orders = try Self.count(harness, "SELECT count(*) FROM referral_orders")
        #expect(try Self.count(harness, "SELECT count(*) FROM customers") == 1000)
        #expect((2500...3500).contains(referrals), "about three referrals per customer, got \(referrals)")
        #expect((referrals * 4 / 10...referrals * 6 / 10).contains(orders), "about half an order per referral")
        // Customer 17 is the whale every scale has.
        #expect(try Self.count(harness, "SELECT count(*) FROM referrals WHERE referrer_id = 'cus_00000017'") >= 300)
        #expect(try Self.count(harness, "SELECT count(*) FROM referral_orders WHERE currency = 'CAD'") > 0)

        let (status, reports) = await harness.run(Self.benchOptions + ["--dry-run"])
        #expect(status == .success)
        let attributes = try #require(reports).csv("attributes.csv")
        let participants = try Self.count(
            harness,
            """
            SELECT count(*) FROM customers c
            WHERE c.opted_in_at <= '2025-01-01' OR EXISTS (SELECT 1 FROM referrals r
                  WHERE r.referrer_id = c.customer_id AND r.created_at <= '2025-01-01')
            """)
        #expect(attributes.count == participants)
        #expect(participants > 950)
        let successes = attributes.compactMap { Int($0["successful_referrals"] ?? "") }
        let referrers = try Self.count(harness, "SELECT count(DISTINCT referrer_id) FROM referrals")
        let fewSuccesses = successes.filter { $0 <= 2 }.count
        #expect(fewSuccesses * 2 > participants, "most participants have 0-2 successes")
        #expect(successes.max() ?? 0 >= 100, "the whale has hundreds of successes")
        #expect(referrers > participants / 2)
        let reasons = Set(try #require(reports).csv("rejected_rows.csv").compactMap { $0["reason"] })
        for reason in [
            "created_after_as_of", "self_referral_by_customer_id", "self_referral_by_email", "negative_total",
            "currency_mismatch", "referral_rejected", "not_first_order_of_referral", "redeemed_after_as_of",
            "redeemed_before_referral_created",
        ] {
            #expect(reasons.contains(reason), "no \(reason) row in the benchmark data")
        }
        let skipped = try #require(reports).csv("changes.csv").filter { $0["outcome"] == "skipped" }
        #expect(!skipped.isEmpty, "some participants have no usable identity")
    }

    @Test func busyNightChangesAboutOnePercentAndTheNextNightIsQuiet() async throws {
        let harness = try await JobHarness()
        try Self.generate(harness)
        #expect(await harness.run(Self.benchOptions).0 == .success)
        let quiet = await harness.run(Self.benchOptions)
        #expect(quiet.0 == .success)
        let quietChanges = try #require(quiet.1).csv("changes.csv")
        #expect(quietChanges.allSatisfy { $0["outcome"] == "skipped" }, "a quiet night sends nothing")

        try harness.database.run("SET bench.participants = 1000;\n" + Self.script("busy_night.sql"))
        let busy = await harness.run(Self.benchOptions)
        #expect(busy.0 == .success)
        let synced = Set(
            try #require(busy.1).csv("changes.csv").filter { $0["outcome"] == "synced" }.compactMap {
                $0["customer_id"]
            })
        #expect((5...20).contains(synced.count), "about 1% of 1000 participants changed, got \(synced.count)")
        let after = await harness.run(Self.benchOptions)
        #expect(try #require(after.1).csv("changes.csv").allSatisfy { $0["outcome"] == "skipped" })
    }

    @Test func sqlLedgerShortcutLeavesWhatARealSyncLeaves() async throws {
        let real = try await JobHarness()
        let shortcut = try await JobHarness()
        try Self.generate(real, customers: 300)
        try Self.generate(shortcut, customers: 300)
        #expect(await real.run(Self.benchOptions).0 == .success)

        var environment = ProcessInfo.processInfo.environment
        environment["PGDATABASE"] = shortcut.database.name
        let fill = try await ChildProcess.run(
            repositoryRoot + "/scripts/bench/fill_ledger.sh", ["2025-01-01T00:00:00Z", "USD", "2"],
            environment: environment, seconds: 300)
        #expect(fill.status == 0, "\(fill.output)")

        let ledger = """
            SELECT customer_id, email, phone, shareable_link, successful_referrals, latest_successful_referral_at,
                   total_successful_referral_revenue FROM referral_sync_ledger ORDER BY customer_id
            """
        let pending = "SELECT customer_id, attribute, value, state FROM referral_sync_pending ORDER BY 1, 2"
        let realLedger = try real.database.query(ledger)
        #expect(realLedger.count > 250)
        #expect(try shortcut.database.query(ledger) == realLedger)
        #expect(try shortcut.database.query(pending) == real.database.query(pending))
        let quiet = await shortcut.run(Self.benchOptions)
        #expect(try #require(quiet.1).csv("changes.csv").allSatisfy { $0["outcome"] == "skipped" })
    }
}
