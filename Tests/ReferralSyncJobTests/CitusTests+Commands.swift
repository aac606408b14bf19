import Attentive
import AttentiveSimulator
import Foundation
import Postgres
import ReferralStore
import TestSupport
import Testing

@testable import ReferralSyncCLI
@testable import ReferralSyncJob

/// Every command on a store in a distributed schema, and those a store distributed by row runs (issue 28), checked
/// against PostgreSQL as one server: a database of the coordinator's cluster without the citus extension, where
/// `sql/definitions/98_citus_forms.sql` changes nothing, loaded with the same rows.
extension CitusTests {
    /// The fuzz history of ``FuzzTests`` (seed 20241108), the rows it never makes and values that need the CSV rules,
    /// loaded through `connection`.
    func loadFuzzHistory(on connection: PostgresConnection) throws {
        try FuzzTests.load(FuzzHistory(seed: 20_241_108), on: connection)
        try connection.run(RefreshBeforeAndAfterTests.rarities)
        try connection.run(AttributesFileBeforeAndAfterTests.awkward)
    }

    /// A database of the coordinator's cluster without Citus, migrated and loaded like the store: the reference.
    func oneServerStore() async throws -> TestDatabase {
        let database = try await offThePool {
            let database = try TestDatabase.create(prefix: "one_server")
            let connection = try database.connect()
            defer { connection.close() }
            try Migrations.apply(on: connection)
            return database
        }
        let connection = try database.connect()
        defer { connection.close() }
        #expect(try connection.query("SELECT 1 FROM pg_extension WHERE extname = 'citus'").isEmpty)
        try loadFuzzHistory(on: connection)
        return database
    }

    /// `referral-sync ARGUMENTS`, in process, with `environment`; its exit status, its closing line, what it printed
    /// and the folder it published in `reports` (nil: none; `explain` takes no reports folder).
    func command(_ arguments: [String], environment: [String: String], reports: String) async -> (
        status: ReferralSyncJob.ExitStatus, message: String, output: String, folder: String?
    ) {
        let captured = CapturedText()
        let printed = CapturedText()
        let status = await ReferralSyncCommand.$errorOutput.withValue({ captured.append($0) }) {
            await ReferralSyncCommand.main(
                arguments: arguments + (arguments.first == "explain" ? [] : ["--reports-dir", reports]),
                environment: environment,
                output: { printed.append($0) })
        }
        let latest = reports + "/latest"
        let folder = FileManager.default.fileExists(atPath: latest + "/summary.md") ? latest : nil
        return (status, captured.text, printed.text, folder)
    }

    /// The report files of `folder` worth comparing between two stores: its CSV and JSONL files, by name.
    func reportFiles(_ folder: String?) throws -> [String: Data] {
        guard let folder else { return [:] }
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder)
        where name.hasSuffix(".csv") || name.hasSuffix(".jsonl") {
            files[name] = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))
        }
        return files
    }

    /// A participant with an email and no phone, whose email no one else has: forget erases every trace of it.
    /// The customers' emails are read first: in a store distributed by row Citus joins its distributed tables to
    /// the coordinator's own (the kept values) only through a set read first.
    static let personSentByEmailAlone = """
        WITH emails AS MATERIALIZED (SELECT c.customer_id, lower(btrim(c.email)) AS email FROM customers c)
        SELECT v.customer_id FROM referral_sync_participant_values v
        WHERE v.problem IS NULL AND v.send_email IS NOT NULL AND v.phone IS NULL
          AND NOT EXISTS (SELECT 1 FROM emails c WHERE c.customer_id <> v.customer_id AND c.email = v.send_email)
        ORDER BY 1 LIMIT 1
        """

    /// `data` with every UUID replaced by the same text.
    func withoutEventIDs(_ data: Data) -> Data {
        let text = String(decoding: data, as: UTF8.self)
        let masked = text.replacingOccurrences(
            of: "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", with: "<event id>",
            options: .regularExpression)
        return Data(masked.utf8)
    }

    /// `data`'s lines in order. Split at every line end: the reports' CSV lines end in CRLF, which Swift reads as
    /// one `Character`, so splitting at "\n" alone left such a file one line, unsorted (and the events' comparison
    /// failed whenever the two servers found the events in another order).
    func sortedLines(_ data: Data) -> Data {
        let lines = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
        return Data(lines.sorted().joined(separator: "\n").utf8)
    }

    /// The first line where two files differ, for the failure message.
    func firstDifference(_ one: Data, _ other: Data?) -> String {
        let lines = String(decoding: one, as: UTF8.self).split(
            omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        let others = String(decoding: other ?? Data(), as: UTF8.self).split(
            omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        for (index, line) in lines.enumerated() where index >= others.count || others[index] != line {
            return "line \(index + 1): \(line) | \(index < others.count ? others[index] : "(none)")"
        }
        return "the other is longer"
    }

    /// The two ways a store lives on Citus (README "Several workers and a distributed PostgreSQL").
    enum Layout: String, CaseIterable, Sendable {
        /// The store's schema a distributed schema: the whole store on one node.
        case distributedSchema
        /// The store's tables distributed by customer over every node (`referral_sync_distribute_by_customer`).
        case distributedByRow
    }

    /// Migrates this test's store in `layout` and loads the fuzz history (for a store distributed by row, before
    /// distributing it, which fills the referrer of orders and rejections); returns the environment of its jobs.
    func fuzzStore(_ layout: Layout) async throws -> [String: String] {
        switch layout {
        case .distributedSchema:
            try await migrateStore()
        case .distributedByRow:
            try await migratePlainStore(schema)
        }
        let connection = try loader()
        defer { connection.close() }
        try loadFuzzHistory(on: connection)
        guard layout == .distributedByRow else { return with(distributedStoreOptions) }
        let distributing = try distributingSession(schema)
        defer { distributing.close() }
        try distributing.query("SELECT referral_sync_distribute_by_customer(4)")
        return with(rowLayoutOptions)
    }

    @Test(arguments: Layout.allCases)
    func theCommandsOfADistributedStoreWriteWhatOneServerWrites(_ layout: Layout) async throws {
        let reference = try await oneServerStore()
        defer { reference.drop() }
        let oneServer = ["DATABASE_URL": reference.conninfo, "REFERRAL_SYNC_QUIET": "1"]
        let distributed = try await fuzzStore(layout).merging(["REFERRAL_SYNC_QUIET": "1"]) { $1 }
        let reports = try makeTemporaryFolder("citus-\(schema)")
        defer { try? FileManager.default.removeItem(atPath: reports) }
        let options = [
            "--currency", "USD", "--default-phone-region", "US", "--as-of", FuzzExpectations.iso(FuzzHistory.asOf),
        ]
        // Each command's arguments are read when it runs: the last forget names a participant of the dry run's
        // refresh.
        let commands: [(name: String, arguments: () throws -> [String])] = [
            ("run", { ["run", "--dry-run"] }),
            ("events", { ["events", "--dry-run", "--backfill"] }),
            ("revenue", { ["revenue", "--by", "month"] }),
            ("explain", { ["explain", "c00001", "--format", "json"] }),
            ("explain", { ["explain", "=1+1"] }),
            ("forget", { ["forget", "c00002", "c00003"] }),
            ("forget", { ["forget", try #require(try reference.query(Self.personSentByEmailAlone).first?[0])] }),
            // The books: the first month with a revenue line closed, then one of its qualifying orders deleted in
            // both stores after the close, and the booked report again: the same adjustment, found through the
            // arrival times (on the workers, in a store distributed by row).
            ("revenue", { ["revenue", "--close", try #require(try reference.query(Self.firstMonth).first?[0])] }),
            (
                "revenue",
                {
                    let order = try #require(try reference.query(Self.anOrderOfTheFirstMonth).first?[0])
                    let store = try self.loader()
                    defer { store.close() }
                    let one = try reference.connect()
                    defer { one.close() }
                    for connection in [store, one] {
                        try connection.execute("DELETE FROM referral_orders WHERE order_id = $1", [order])
                    }
                    return ["revenue", "--basis", "booked", "--by", "month"]
                }
            ),
        ]
        for (name, read) in commands {
            let arguments = try read()
            // forget takes no --as-of: it erases what is there now.
            let given = name == "forget" ? Array(options.dropLast(2)) : options
            let one = await command(
                arguments + given, environment: oneServer, reports: reports + "/one-\(name)")
            let spread = await command(
                arguments + given + ["--schema", schema], environment: distributed,
                reports: reports + "/citus-\(name)")
            #expect(one.status == spread.status, "\(arguments): \(one.message) | \(spread.message)")
            #expect([.success, .needsAttention].contains(spread.status), "\(arguments): \(spread.message)")
            #expect(one.message == spread.message, "\(arguments)")
            if name == "explain" { #expect(one.output == spread.output, "\(arguments): what it printed") }
            // An event's id names its store (EventDiscovery.idName): the two stores' ids differ by design. Events
            // come in the order the server finds them, which no report promises: their lines are compared sorted.
            let comparable = { (data: Data) in name == "events" ? self.sortedLines(self.withoutEventIDs(data)) : data }
            let oneFiles = try reportFiles(one.folder).mapValues(comparable)
            let spreadFiles = try reportFiles(spread.folder).mapValues(comparable)
            #expect(oneFiles.keys.sorted() == spreadFiles.keys.sorted(), "\(arguments)")
            for (file, data) in oneFiles.sorted(by: { $0.key < $1.key }) {
                #expect(
                    spreadFiles[file] == data,
                    "\(arguments): \(file) differs: \(firstDifference(data, spreadFiles[file]))")
            }
            if name == "run" {
                // And byte for byte what one server wrote before issue 27 (AttributesFileBeforeAndAfterTests).
                let fixture = try Data(
                    contentsOf: URL(
                        fileURLWithPath: AttributesFileBeforeAndAfterTests.fixtures + "/seed-20241108.csv"))
                #expect(spreadFiles["attributes.csv"] == fixture)
                #expect((spreadFiles["rejected_rows.csv"]?.count ?? 0) > 1_000)
            }
            if name == "explain" { #expect(spread.output.count > 200, "\(spread.output)") }
            if arguments.contains("booked"), let folder = spread.folder {
                let markdown = try String(contentsOfFile: folder + "/revenue.md", encoding: .utf8)
                #expect(markdown.contains("order deleted after the close"), "\(markdown)")
            }
        }
    }

    /// The first month (UTC) with a revenue line that counts, in the kept lines of a refreshed store.
    static let firstMonth = """
        SELECT to_char(min(l.dated_at) AT TIME ZONE 'UTC', 'YYYY-MM') FROM referral_sync_revenue_kept_lines l
        WHERE l.sign = 1
        """

    /// A qualifying order of ``firstMonth``.
    static let anOrderOfTheFirstMonth = """
        SELECT l.order_id FROM referral_sync_revenue_kept_lines l
        WHERE l.sign = 1 AND NOT l.booked_only
          AND to_char(l.dated_at AT TIME ZONE 'UTC', 'YYYY-MM') = (\(firstMonth))
        ORDER BY l.order_id LIMIT 1
        """

    /// This test's store, migrated and loaded with the fuzz history, a simulator of Attentive to send to and a
    /// reports folder; ``command(_:)`` runs a command of the store as of the history's as-of.
    final class SyncedStore: @unchecked Sendable {
        let test: CitusTests
        let loader: PostgresConnection
        let simulator: AttentiveSimulator
        let reports: String
        /// The environment of the store's jobs before the run's own: the database URL with the layout's settings.
        let database: [String: String]

        init(_ test: CitusTests, layout: Layout = .distributedSchema) async throws {
            self.test = test
            database = try await test.fuzzStore(layout)
            loader = try test.loader()
            simulator = AttentiveSimulator(
                configuration: SimulatorConfiguration(apiKey: "citus-key-\(UUID().uuidString)"))
            try simulator.start()
            reports = try makeTemporaryFolder("citus-\(test.schema)")
        }

        deinit {
            simulator.stop()
            loader.close()
            try? FileManager.default.removeItem(atPath: reports)
        }

        /// The environment of the store's jobs: as of the history's as-of, or now (`events --follow`).
        func environment(asOfTheHistory: Bool = true) -> [String: String] {
            database.merging([
                "ATTENTIVE_API_KEY": simulator.configuration.apiKey,
                "ATTENTIVE_BASE_URL": simulator.baseURL.absoluteString, "REFERRAL_SYNC_QUIET": "1",
                "REFERRAL_SHOP_CURRENCY": "USD", "REFERRAL_SYNC_DEFAULT_PHONE_REGION": "US",
            ]) { $1 }.merging(asOfTheHistory ? ["REFERRAL_SYNC_AS_OF": FuzzExpectations.iso(FuzzHistory.asOf)] : [:]) {
                $1
            }
        }

        func command(_ arguments: [String]) async -> (status: ReferralSyncJob.ExitStatus, message: String) {
            let outcome = await test.command(
                arguments + ["--schema", test.schema], environment: environment(), reports: reports)
            return (outcome.status, outcome.message)
        }

        /// The first sync in bulk jobs, then a second run one participant at a time, then drift: everyone with an
        /// identity sent once, a ledger row each, nothing sent again, no drift. Returns how many were sent.
        func syncTwiceAndFindNoDrift() async throws -> Int {
            let first = await command(["run", "--mode", "bulk"])
            #expect([.success, .needsAttention].contains(first.status), "\(first.message)")
            #expect(simulator.statistics().acceptedBulkRecords > 300, "sent in bulk jobs")
            let sent = self.sent
            #expect(sent > 300, "the first run sends every participant with an identity")
            let ledger = try loader.query("SELECT count(*) FROM referral_sync_ledger").first?[0]
            #expect(Int(ledger ?? "") == sent, "one ledger row per accepted participant")
            let second = await command(["run"])
            #expect(second.status == .success, "\(second.message)")
            #expect(self.sent == sent, "a second run sends nothing")
            let drift = await command(["drift"])
            #expect(drift.status == .success, "no drift: \(drift.message)")
            return sent
        }

        /// Participants Attentive accepted, one at a time or in bulk jobs.
        var sent: Int {
            let statistics = simulator.statistics()
            return statistics.acceptedUpdates + statistics.acceptedBulkRecords
        }
    }

    @Test func aStoreMovedBetweenTwoRunsSendsOnlyWhatChangedAndEachEventOnce() async throws {
        let store = try await SyncedStore(self)
        let first = await store.command(["run"])
        #expect([.success, .needsAttention].contains(first.status), "\(first.message)")
        let events = await store.command(["events", "--backfill"])
        #expect([.success, .needsAttention].contains(events.status), "\(events.message)")
        let sent = store.sent
        let delivered = store.simulator.acceptedEvents().count
        #expect(sent > 300 && delivered > 300)

        let coordinator = try coordinator()
        defer { coordinator.close() }
        try moveStoreToTheOtherWorker(coordinator)

        // One new successful referral for a participant that already has one, loaded on the new node, within
        // the events' --max-age (12 hours) of the as-of.
        let referrer = try #require(
            try store.loader.query(
                """
                SELECT v.customer_id FROM referral_sync_participant_values v
                WHERE v.problem IS NULL AND v.successful_referrals::int > 0 ORDER BY 1 LIMIT 1
                """
            ).first?[0])
        try store.loader.run(
            """
            INSERT INTO referrals (referral_id, referrer_id, recipient_email, channel, created_at)
                VALUES ('moved_1', '\(referrer)', 'new.friend@example.net', 'email', '2024-06-29T20:00Z');
            INSERT INTO referral_orders (order_id, referral_id, total_price, currency, redeemed_at)
                VALUES ('moved_o1', 'moved_1', 40.00, 'USD', '2024-06-29T22:00Z')
            """)
        let second = await store.command(["run"])
        #expect(second.status == .success, "\(second.message)")
        #expect(store.sent == sent + 1, "only the referrer whose values changed")
        let again = await store.command(["events"])
        #expect([.success, .needsAttention].contains(again.status), "\(again.message)")
        let ids = store.simulator.acceptedEvents()
        #expect(ids.count > delivered, "the new referral's events")
        #expect(Set(ids).count == ids.count, "no event twice, across the move")
    }

    @Test(arguments: Layout.allCases)
    func aFollowerOfADistributedStoreDeliversANewRowOnce(_ layout: Layout) async throws {
        let store = try await SyncedStore(self, layout: layout)
        // The change-note triggers ring no doorbell on a shard (70_change_notes): the follower finds the row at
        // its first pass or its next sweep, every second here.
        let stop = StopSignal()
        let arguments = [
            "events", "--follow", "--sweep-seconds", "1", "--schema", schema, "--reports-dir", store.reports,
        ]
        let environment = store.environment(asOfTheHistory: false)
        let follower = Task {
            await ReferralSyncCommand.main(
                arguments: arguments, environment: environment, stopSignal: stop, output: { _ in })
        }
        let email = "follow.\(UUID().uuidString.prefix(8).lowercased())@example.com"
        try store.loader.execute(
            "INSERT INTO customers (customer_id, email, opted_in_at) VALUES ($1, $2, now())", ["follow_1", email])
        let delivered = await waitUntil(seconds: 60) {
            store.simulator.acceptedEvents().contains { $0.contains(email) }
        }
        stop.receive(SIGTERM)
        let status = await follower.value
        #expect(delivered, "the opt-in of the new customer, delivered while the follower runs")
        #expect(status == .terminated)
        #expect(store.simulator.acceptedEvents().filter { $0.contains(email) }.count == 1)
    }

    @Test(arguments: Layout.allCases)
    func aDistributedStoreSyncsSendsEachEventOnceAndReconciles(_ layout: Layout) async throws {
        let store = try await SyncedStore(self, layout: layout)
        let connection = store.loader
        let simulator = store.simulator
        _ = try await store.syncTwiceAndFindNoDrift()

        // drift --repair: a value changed in Attentive behind the job's back is found, its ledger entry forgotten,
        // and the next run sends the kept value again; then no drift.
        let person = try #require(try connection.query(Self.personSentByEmailAlone).first?[0])
        let keptValues = try #require(
            try connection.query(
                "SELECT send_email, successful_referrals FROM referral_sync_participant_values WHERE customer_id = $1",
                [person]
            ).first)
        let count = "Okendo Number of Successful Referrals"
        let outside = AttentiveClient(
            configuration: AttentiveClientConfiguration(
                baseURL: simulator.baseURL, apiKey: simulator.configuration.apiKey))
        let changed = AttributeUpdate(
            user: AttentiveUser(email: keptValues[0], phone: nil), properties: [count: "999"])
        #expect(await outside.sendCustomAttributes(changed).isAccepted)
        let repair = await store.command(["drift", "--repair"])
        #expect(repair.status == .needsAttention, "\(repair.message)")
        let ledgerRows = try connection.query(
            "SELECT count(*) FROM referral_sync_ledger WHERE customer_id = $1", [person]
        ).first?[0]
        #expect(ledgerRows == "0", "drift --repair forgets the drifted participant's ledger entry")
        let resend = await store.command(["run"])
        #expect(resend.status == .success, "\(resend.message)")
        #expect(simulator.profile(email: keptValues[0] ?? "")?.attributes[count] == keptValues[1])
        let noDrift = await store.command(["drift"])
        #expect(noDrift.status == .success, "no drift after the repair: \(noDrift.message)")
        let sent = store.sent

        let events = await store.command(["events", "--backfill"])
        #expect([.success, .needsAttention].contains(events.status), "\(events.message)")
        let delivered = simulator.acceptedEvents().count
        #expect(delivered > 300)
        let again = await store.command(["events", "--backfill"])
        #expect([.success, .needsAttention].contains(again.status), "\(again.message)")
        #expect(simulator.acceptedEvents().count == delivered, "each event once")
        let ledgerEvents = try connection.query(
            "SELECT count(*) FROM referral_sync_events WHERE state = 'delivered'"
        ).first?[0]
        #expect(Int(ledgerEvents ?? "") == delivered)

        let revenue = await store.command(["revenue", "--by", "month"])
        #expect(revenue.status == .success, "the report reconciles with the attributes: \(revenue.message)")

        let forget = await store.command(["forget", person])
        #expect(forget.status == .success, "\(forget.message)")
        let after = await store.command(["run"])
        #expect(after.status == .success, "\(after.message)")
        #expect(store.sent == sent, "the forgotten customer is not sent again")
        let kept = try connection.query(
            "SELECT problem FROM referral_sync_participant_values WHERE customer_id = $1", [person]
        ).first?[0]
        #expect(kept == "forgotten")
    }
}
