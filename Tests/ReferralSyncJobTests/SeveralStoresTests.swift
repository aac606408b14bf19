import AttentiveSimulator
import Foundation
import ReferralSyncCLI
import ReferralSyncJob
import TestSupport
import Testing

/// Two stores in one database, one schema each (README "Several stores"): each with its own Attentive key and
/// simulator and its own currency, running at the same moment, each still one run at a time.
@Suite struct SeveralStoresTests {
    /// The database with both stores migrated, and one simulator each. `@unchecked Sendable`: set up once, then
    /// only read (the simulators are thread-safe), so two runs may use it at the same moment.
    final class Stores: @unchecked Sendable {
        let database: TestDatabase
        let reports: String
        /// Per store: its simulator, its key, its currency.
        var simulators: [String: AttentiveSimulator] = [:]
        let keys = ["us": "us-key-\(UUID().uuidString)", "eu": "eu-key-\(UUID().uuidString)"]
        let currencies = ["us": "USD", "eu": "EUR"]

        init() async throws {
            database = try TestDatabase.create(prefix: "stores")
            reports = try makeTemporaryFolder("stores")
            for store in ["us", "eu"] {
                let simulator = AttentiveSimulator(configuration: SimulatorConfiguration(apiKey: keys[store] ?? ""))
                try simulator.start()
                simulators[store] = simulator
                let migrated = await runCommand(
                    ["migrate", "--schema", store, "--create-schema"], environment: ["DATABASE_URL": database.conninfo])
                #expect(migrated.status == .success, "\(migrated.message)")
            }
        }

        deinit {
            simulators.values.forEach { $0.stop() }
            database.drop()
            try? FileManager.default.removeItem(atPath: reports)
        }

        func environment(_ store: String) -> [String: String] {
            [
                "ATTENTIVE_API_KEY": keys[store] ?? "",
                "ATTENTIVE_BASE_URL": simulators[store]?.baseURL.absoluteString ?? "",
                "DATABASE_URL": database.conninfo, "REFERRAL_SYNC_QUIET": "1", "REFERRAL_SYNC_SCHEMA": store,
                "REFERRAL_SHOP_CURRENCY": currencies[store] ?? "",
            ]
        }

        func run(_ store: String, _ arguments: [String] = []) async -> ReferralSyncJob.ExitStatus {
            await runCommand(
                ["run", "--reports-dir", reports + "/" + store] + arguments, environment: environment(store)
            ).status
        }

        /// One statement list, in one transaction, writing both stores' tables.
        func load(_ sql: String) throws { try database.run("BEGIN;\n" + sql + "\nCOMMIT;") }

        func recomputed(_ store: String) throws -> String? {
            try database.query(
                "SELECT outcome_counts->>'recomputed_customers' FROM \(store).referral_sync_runs "
                    + "ORDER BY run_id DESC LIMIT 1"
            ).first?[0]
        }
    }

    static func customers(_ store: String, count: Int, currency: String) -> String {
        (1...count).map { index in
            let id = "\(store)\(index)"
            return """
                INSERT INTO \(store).customers (customer_id, email, opted_in_at)
                  VALUES ('\(id)', '\(id)@example.com', '2024-01-01T00:00:00Z');
                INSERT INTO \(store).referrals (referral_id, referrer_id, created_at)
                  VALUES ('r-\(id)', '\(id)', '2024-02-01T00:00:00Z');
                INSERT INTO \(store).referral_orders (order_id, referral_id, total_price, currency, redeemed_at)
                  VALUES ('o-\(id)', 'r-\(id)', 10.5, '\(currency)', '2024-03-01T00:00:00Z');
                """
        }.joined(separator: "\n")
    }

    @Test func twoStoresRunSideBySideEachToItsOwnAttentiveAndCurrency() async throws {
        let stores = try await Stores()
        try stores.load(
            Self.customers("us", count: 3, currency: "USD") + Self.customers("eu", count: 2, currency: "EUR"))
        async let us = stores.run("us")
        async let eu = stores.run("eu")
        let (usStatus, euStatus) = await (us, eu)
        #expect(usStatus == .success)
        #expect(euStatus == .success)
        let usProfiles = try #require(stores.simulators["us"]).profiles()
        let euProfiles = try #require(stores.simulators["eu"]).profiles()
        #expect(Set(usProfiles.compactMap(\.email)) == ["us1@example.com", "us2@example.com", "us3@example.com"])
        #expect(Set(euProfiles.compactMap(\.email)) == ["eu1@example.com", "eu2@example.com"])
        #expect(euProfiles.allSatisfy { $0.attributes["Okendo Total Successful Referral Revenue"] == "10.50" })
        let summary = try String(contentsOfFile: stores.reports + "/eu/latest/summary.md", encoding: .utf8)
        #expect(summary.contains("- Store: eu"))
        #expect(summary.contains("EUR"))

        // A load touching both stores in one transaction: each store's next run recomputes only its own customer.
        try stores.load(
            """
            INSERT INTO us.referrals (referral_id, referrer_id, created_at) VALUES ('r-x', 'us1', '2024-02-02T00:00:00Z');
            INSERT INTO us.referral_orders (order_id, referral_id, total_price, currency, redeemed_at)
              VALUES ('o-x', 'r-x', 5, 'USD', '2024-03-02T00:00:00Z');
            INSERT INTO eu.referrals (referral_id, referrer_id, created_at) VALUES ('r-y', 'eu2', '2024-02-02T00:00:00Z');
            """)
        #expect(await stores.run("us") == .success)
        #expect(try stores.recomputed("us") == "1")
        #expect(await stores.run("eu") == .success)
        #expect(try stores.recomputed("eu") == "1")
        #expect(
            try #require(stores.simulators["us"]).profile(email: "us1@example.com")?.attributes[
                "Okendo Number of Successful Referrals"] == "2")

        // history --schema reads one store's runs.
        let captured = CapturedText()
        let status = await ReferralSyncCommand.main(
            arguments: ["history", "--schema", "eu"], environment: stores.environment("eu"),
            output: { captured.append($0) })
        #expect(status == .success)
        #expect(captured.text.split(separator: "\n").count == 3)

        // The metrics of a store carry its label; drift names the store too.
        let metrics = stores.reports + "/eu.prom"
        #expect(await stores.run("eu", ["--metrics-file", metrics]) == .success)
        let text = try String(contentsOfFile: metrics, encoding: .utf8)
        #expect(text.contains(#"referral_sync_last_exit_status{command="run",store="eu"} 0"#))
        let drift = await runCommand(
            ["drift", "--reports-dir", stores.reports + "/eu-drift"], environment: stores.environment("eu"))
        #expect(drift.status == .success, "\(drift.message)")
        #expect(
            try String(contentsOfFile: stores.reports + "/eu-drift/latest/summary.md", encoding: .utf8)
                .contains("- Store: eu"))
    }

    @Test func theSearchPathOfTheConnectionStringChoosesTheStoreToo() async throws {
        let stores = try await Stores()
        try stores.load(Self.customers("eu", count: 2, currency: "EUR"))
        var environment = stores.environment("eu")
        environment["REFERRAL_SYNC_SCHEMA"] = nil
        environment["DATABASE_URL"] = stores.database.conninfo + " options='-csearch_path=eu'"
        let result = await runCommand(["run", "--reports-dir", stores.reports + "/eu"], environment: environment)
        #expect(result.status == .success, "\(result.message)")
        #expect(try #require(stores.simulators["eu"]).profiles().count == 2)
        #expect(try stores.database.query("SELECT count(*) FROM eu.referral_sync_ledger").first?[0] == "2")
    }

    @Test func eventsOfTwoStoresStayApartAndNeverShareAnID() async throws {
        let stores = try await Stores()
        // The same customer ids in both stores, loaded in one transaction.
        try stores.load(
            Self.customers("us", count: 2, currency: "USD") + Self.customers("eu", count: 2, currency: "EUR")
                + "UPDATE eu.customers SET customer_id = customer_id WHERE false;")
        try stores.load(
            """
            INSERT INTO us.customers (customer_id, email, opted_in_at) VALUES ('same', 'same@example.com', '2024-01-01');
            INSERT INTO eu.customers (customer_id, email, opted_in_at) VALUES ('same', 'same@example.com', '2024-01-01');
            """)
        func events(_ store: String) async -> ReferralSyncJob.ExitStatus {
            await runCommand(
                ["events", "--backfill", "--reports-dir", stores.reports + "/" + store + "-events"],
                environment: stores.environment(store)
            ).status
        }
        async let us = events("us")
        async let eu = events("eu")
        let (usStatus, euStatus) = await (us, eu)
        #expect(usStatus == .success)
        #expect(euStatus == .success)
        func ids(_ store: String) throws -> Set<String> {
            Set(
                try #require(stores.simulators[store]).acceptedEvents().compactMap { text in
                    (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])?["externalEventId"]
                        as? String
                })
        }
        // Each store's opt-ins and referral events (3 customers each; no email referrals) went to its own key.
        #expect(try #require(stores.simulators["us"]).acceptedEvents().count == 3 + 2)
        #expect(try #require(stores.simulators["eu"]).acceptedEvents().count == 3 + 2)
        #expect(try ids("us").isDisjoint(with: try ids("eu")))
        #expect(try stores.database.query("SELECT count(*) FROM us.referral_sync_event_notes").first?[0] == "0")
        #expect(try stores.database.query("SELECT count(*) FROM eu.referral_sync_events").first?[0] == "5")
    }

    @Test func aStoreStillRunsOneAtATimeWhileAnotherRuns() async throws {
        let stores = try await Stores()
        try stores.load(
            Self.customers("us", count: 6, currency: "USD") + Self.customers("eu", count: 2, currency: "EUR"))
        let usSimulator = try #require(stores.simulators["us"])
        var slow = usSimulator.configuration
        slow.latencyMilliseconds = 400
        usSimulator.update(configuration: slow)
        async let first = stores.run("us", ["--concurrency", "1"])
        #expect(await waitUntil(seconds: 60) { usSimulator.statistics().requests >= 1 })
        #expect(await stores.run("us") == .locked)
        #expect(await stores.run("eu") == .success)
        #expect(await first == .success)
    }

    @Test func aMissingSchemaIsRefusedWithTheWayToCreateIt() async throws {
        let database = try TestDatabase.create(prefix: "stores")
        defer { database.drop() }
        let migrate = await runCommand(
            ["migrate", "--schema", "uk"], environment: ["DATABASE_URL": database.conninfo])
        #expect(migrate.status == .configuration)
        #expect(migrate.message.contains("--create-schema"))
        let run = await runCommand(
            ["run", "--schema", "uk", "--dry-run"], environment: ["DATABASE_URL": database.conninfo])
        #expect(run.status == .configuration)
        #expect(run.message.contains("the schema uk does not exist"))
    }
}
