import AttentiveSimulator
import Foundation
import ReferralModel
import ReferralSyncCLI
import ReferralSyncJob
import Reports
import TestSupport
import Testing

/// `referral-sync events` against a real database and the simulator over loopback HTTP.
@Suite("Events: the seven referral events, exactly once")
struct EventsTests {
    /// A small referral program: every event type, a rejection, a referral with two orders, bad orders, a customer
    /// with no usable identity and a referral of an unknown channel.
    static let history = """
        INSERT INTO customers VALUES
          ('c1', ' Ann@Example.com ', '(415) 555-0101', 'Ann', 'Lee', 'en-US', 'https://shop/r/ann', '2025-01-10T10:00:00Z'),
          ('c2', 'bob@example.com', NULL, 'Bob', 'Ray', 'fr-FR', NULL, NULL),
          ('c3', 'not an email', '12', 'No', 'Id', NULL, NULL, '2025-01-10T11:00:00Z');
        INSERT INTO referrals VALUES
          ('r1', 'c1', 'bob@example.com', 'c2', 'Email', '2025-01-10T12:00:00Z'),
          ('r2', 'c1', 'zed@example.com', NULL, 'link', '2025-01-10T13:00:00Z'),
          ('r3', 'c1', 'q@example.com', NULL, 'sms', '2025-01-10T14:00:00Z');
        INSERT INTO referral_orders VALUES
          ('o1', '1001', 'r1', 'FRIEND10', 100.505, 10, 'USD', '2025-01-10T15:00:00Z'),
          ('o2', '1002', 'r1', 'FRIEND10', 50, 0, 'USD', '2025-01-10T16:00:00Z'),
          ('o3', '1003', 'r2', NULL, 20, 0, 'EUR', '2025-01-10T16:30:00Z');
        INSERT INTO referral_rejections VALUES ('r2', 'fraud', 'same IP', '2025-01-10T17:00:00Z', false);
        INSERT INTO referral_coupons VALUES
          ('FRIEND10', 'r1', 'c2', 'recipient', '10% off', '2025-01-10T12:00:01Z', '2025-02-10T00:00:00Z'),
          ('REWARD5', 'r1', NULL, 'referrer', NULL, '2025-01-10T15:00:01Z', NULL);
        """

    static let asOf = "2025-01-10T20:00:00Z"

    /// A harness with the history loaded. `@unchecked Sendable`: one test uses it, from one task at a time (the
    /// signal test reads the simulator while its run is in flight; the simulator is thread-safe).
    final class Events: @unchecked Sendable {
        let harness: JobHarness
        init(simulator configure: (inout SimulatorConfiguration) -> Void = { _ in }) async throws {
            harness = try await JobHarness(simulator: configure)
            try harness.database.run(EventsTests.history)
        }

        func events(_ arguments: [String] = [], stopSignal: StopSignal = StopSignal()) async -> (
            ReferralSyncJob.ExitStatus, ReportFiles?
        ) {
            let status = await ReferralSyncCommand.main(
                arguments: [
                    "events", "--reports-dir", harness.reportsDirectory, "--currency", "USD",
                    "--default-phone-region", "US",
                ] + arguments,
                environment: harness.environment, stopSignal: stopSignal, output: { _ in })
            let latest = harness.reportsDirectory + "/latest"
            let files = FileManager.default.fileExists(atPath: latest + "/summary.md") ? ReportFiles(path: latest) : nil
            return (status, files)
        }

        /// The accepted bodies, parsed.
        func accepted() throws -> [[String: Any]] {
            try harness.simulator.acceptedEvents().map { text in
                try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            }
        }

        /// The accepted body of `type` for `role`, exactly one.
        func only(_ type: String, role: String) throws -> [String: Any] {
            let matching = try accepted().filter {
                $0["type"] as? String == type
                    && ($0["properties"] as? [String: Any])?["Customer Role"] as? String == role
            }
            #expect(matching.count == 1, "\(type) \(role): \(matching.count) accepted")
            return try #require(matching.first)
        }
    }

    @Test("every event type carries its exact properties, user, id and time; bad rows are listed, not sent")
    func everyEventType() async throws {
        let events = try await Events()
        let (status, reports) = await events.events(["--as-of", Self.asOf])
        #expect(status == .success)
        let accepted = try events.accepted()
        #expect(accepted.count == 10)

        let optedIn = try events.only("Opted In to Okendo Referrals", role: "referrer")
        #expect(optedIn["occurredAt"] as? String == "2025-01-10T10:00:00.000Z")
        #expect(optedIn["user"] as? [String: String] == ["email": "ann@example.com", "phone": "+14155550101"])
        #expect(
            optedIn["properties"] as? [String: String] == [
                "Locale": "en-US", "Customer Role": "referrer", "Referrer Name": "Ann Lee",
                "Referrer Email": "ann@example.com", "Date Opted-In": "2025-01-10T10:00:00.000Z",
            ])
        let sent = try events.only("Sent Okendo Referral", role: "referrer")
        #expect(
            sent["properties"] as? [String: String] == [
                "Locale": "en-US", "Referrer First Name": "Ann", "Referrer Last Name": "Lee",
                "Recipient Email": "bob@example.com", "Customer Role": "referrer",
                "Date Sent": "2025-01-10T12:00:00.000Z",
            ])
        let invitation = try events.only("Okendo Referral Invitation", role: "recipient")
        #expect(invitation["user"] as? [String: String] == ["email": "bob@example.com"])
        #expect(
            invitation["properties"] as? [String: String] == [
                "Locale": "fr-FR", "Referrer First Name": "Ann", "Referrer Last Name": "Lee",
                "Recipient Email": "bob@example.com", "Customer Role": "recipient",
                "Date Sent": "2025-01-10T12:00:00.000Z",
            ])
        let linkUsed = try events.only("Okendo Shareable Link Used", role: "referrer")
        #expect(
            linkUsed["properties"] as? [String: String] == [
                "Recipient Email": "zed@example.com", "Customer Role": "referrer",
                "Date Opted-In": "2025-01-10T13:00:00.000Z",
            ])
        let recipientOptedIn = try events.only("Opted In to Okendo Referrals", role: "recipient")
        #expect(recipientOptedIn["user"] as? [String: String] == ["email": "zed@example.com"])
        #expect(
            recipientOptedIn["properties"] as? [String: String] == [
                "Locale": "en-US", "Recipient Email": "zed@example.com", "Customer Role": "recipient",
                "Date Opted-In": "2025-01-10T13:00:00.000Z",
            ])
        let coupon = try events.only("Received Okendo Referral Coupon", role: "recipient")
        #expect(
            coupon["properties"] as? [String: String] == [
                "Coupon Code": "FRIEND10", "Coupon Description": "10% off",
                "Coupon Expiry Date": "2025-02-10T00:00:00.000Z", "Date Received": "2025-01-10T12:00:01.000Z",
                "Customer Role": "recipient",
            ])
        let reward = try events.only("Received Okendo Referral Coupon", role: "referrer")
        #expect(reward["user"] as? [String: String] == ["email": "ann@example.com", "phone": "+14155550101"])
        // One reward event for r1's two orders: its qualifying (first) order, amounts rounded half to even.
        let redeemed = try events.only("Redeemed Okendo Referral Coupon", role: "referrer")
        #expect(redeemed["occurredAt"] as? String == "2025-01-10T15:00:00.000Z")
        #expect(
            redeemed["properties"] as? [String: String] == [
                "Date Redeemed": "2025-01-10T15:00:00.000Z", "Customer Role": "referrer",
                "Order Discount Amount": "10.00", "Order ID": "o1", "Order Number": "1001",
                "Order Total Price": "100.50", "Currency": "USD",
            ])
        // The rejection tells both sides; Should Notify Customer is a JSON boolean.
        for role in ["referrer", "recipient"] {
            let rejected = try events.only("Okendo Referral Rejected", role: role)
            let properties = try #require(rejected["properties"] as? [String: Any])
            #expect(properties["Should Notify Customer"] as? Bool == false)
            #expect(properties["Rejection Reason"] as? String == "same IP")
            #expect(properties["Rejection Type"] as? String == "fraud")
            #expect(properties["Email"] as? String == (role == "referrer" ? "ann@example.com" : "zed@example.com"))
        }
        // Ids are the deterministic UUIDv5 of type|role|source.
        #expect(
            sent["externalEventId"] as? String
                == EventID.uuid5(name: "Sent Okendo Referral|referrer|referrals:r1"))

        let rows = try #require(reports).csv("events.csv")
        func outcome(_ source: String, _ type: String) -> [String: String]? {
            rows.first { $0["source_row"] == source && $0["type"] == type }
        }
        #expect(rows.filter { $0["outcome"] == "delivered" }.count == 10)
        #expect(
            outcome("referral_orders:o2", "Redeemed Okendo Referral Coupon")?["error"] == "not_first_order_of_referral")
        #expect(outcome("referral_orders:o3", "Redeemed Okendo Referral Coupon")?["error"] == "currency_mismatch")
        #expect(outcome("customers:c3", "Opted In to Okendo Referrals")?["error"] == "no_usable_identity")
        #expect(rows.first { $0["source_row"] == "referrals:r3" }?["error"] == "unknown_channel")
        #expect(rows.filter { $0["outcome"] == "skipped" }.count == 4)
    }

    @Test("a second run sends nothing; a late-landing row is sent alone; a changed row is not sent again")
    func exactlyOnce() async throws {
        let events = try await Events()
        #expect(await events.events(["--as-of", Self.asOf]).0 == .success)
        #expect(try events.accepted().count == 10)
        let (quiet, quietReports) = await events.events(["--as-of", Self.asOf])
        #expect(quiet == .success)
        #expect(try events.accepted().count == 10)
        #expect(try #require(quietReports).csv("events.csv").isEmpty)

        // A referral that lands late (created an hour ago, loaded now), and a customer whose row changed.
        try events.harness.database.run(
            """
            INSERT INTO referrals VALUES ('r9', 'c2', 'amy@example.com', NULL, 'email', '2025-01-10T19:00:00Z');
            UPDATE customers SET first_name = 'Annie' WHERE customer_id = 'c1';
            """)
        let (late, lateReports) = await events.events(["--as-of", Self.asOf])
        #expect(late == .success)
        let accepted = try events.accepted()
        #expect(accepted.count == 12)
        #expect(accepted.suffix(2).allSatisfy { ($0["occurredAt"] as? String) == "2025-01-10T19:00:00.000Z" })
        let summary = try #require(lateReports).text("summary.md")
        #expect(summary.contains("| (events already delivered, of the rows read: not sent again) | 10 |"))
        // Two rows changed: each counted once (the referral is not also counted as a redemption and a rejection).
        #expect(summary.contains("- Read: 2 rows noted since the last run\n"), "\(summary)")
        let ids = accepted.compactMap { $0["externalEventId"] as? String }
        #expect(Set(ids).count == ids.count)
    }

    @Test("the age rule: only the last --max-age hours are sent; --backfill sends the rest with their true times")
    func ageRuleAndBackfill() async throws {
        let events = try await Events()
        // At 2025-01-11T05:00Z, 12 hours back is 17:00 the day before: only the rejection (17:00) is inside.
        let (first, reports) = await events.events(["--as-of", "2025-01-11T05:00:00Z"])
        #expect(first == .success)
        #expect(try events.accepted().count == 2)
        let summary = try #require(reports).text("summary.md")
        #expect(summary.contains("## First events run"))
        #expect(summary.contains("| customers (opted in) | 2 |"))
        #expect(summary.contains("| referrals | 3 |"))
        #expect(summary.contains("| referral_orders | 3 |"))
        #expect(summary.contains("| referral_rejections | 0 |"))
        #expect(summary.contains("| referral_coupons | 2 |"))

        // A row landing now with an old time is too old, listed, not sent.
        try events.harness.database.run(
            "INSERT INTO referrals VALUES ('r8', 'c2', 'old@example.com', NULL, 'email', '2025-01-09T00:00:00Z')")
        let (_, lateReports) = await events.events(["--as-of", "2025-01-11T05:00:00Z"])
        let rows = try #require(lateReports).csv("events.csv")
        #expect(rows.filter { $0["outcome"] == "too_old" }.count == 2)
        #expect(try events.accepted().count == 2)

        let (backfill, _) = await events.events(["--as-of", "2025-01-11T05:00:00Z", "--backfill"])
        #expect(backfill == .success)
        let accepted = try events.accepted()
        #expect(accepted.count == 12)
        let ids = accepted.compactMap { $0["externalEventId"] as? String }
        #expect(Set(ids).count == 12)
        #expect(
            accepted.contains {
                $0["type"] as? String == "Opted In to Okendo Referrals"
                    && $0["occurredAt"] as? String == "2025-01-10T10:00:00.000Z"
            })
    }

    @Test("events dated after the as-of wait for their time, and are then sent once")
    func notYet() async throws {
        let events = try await Events()
        #expect(await events.events(["--as-of", "2025-01-10T12:30:00Z"]).0 == .success)
        // By 12:30: opted in (10:00), c3's skipped opt-in, r1 sent + invitation (12:00), r1's coupon (12:00:01).
        #expect(try events.accepted().count == 4)
        #expect(await events.events(["--as-of", Self.asOf]).0 == .success)
        let accepted = try events.accepted()
        #expect(accepted.count == 10)
        let ids = accepted.compactMap { $0["externalEventId"] as? String }
        #expect(Set(ids).count == 10)
    }

    @Test("--dry-run sends and records nothing, and lists what would be sent")
    func dryRun() async throws {
        let events = try await Events()
        let (status, reports) = await events.events(["--as-of", Self.asOf, "--dry-run"])
        #expect(status == .success)
        #expect(try events.accepted().isEmpty)
        let rows = try #require(reports).csv("events.csv")
        #expect(rows.filter { $0["outcome"] == "dry_run" }.count == 10)
        let requests = try #require(reports).text("dry_run_requests.jsonl").split(separator: "\n")
        #expect(requests.count == 10)
        #expect(try events.harness.database.query("SELECT count(*) FROM referral_sync_events").first?[0] == "0")
        // Nothing was consumed: the real run afterwards sends all of it.
        #expect(await events.events(["--as-of", Self.asOf]).0 == .success)
        #expect(try events.accepted().count == 10)
    }

    @Test(
        "faults (5xx, 429, drops, accepted then 500) and reruns: every event delivered, no id with two bodies",
        arguments: [
            FaultCase(name: "500", configure: { $0.internalErrorRate = 0.5 }),
            FaultCase(name: "429", configure: { $0.tooManyRequestsRate = 0.5 }),
            FaultCase(name: "drop", configure: { $0.dropConnectionRate = 0.4 }),
            FaultCase(name: "accepted then 500", configure: { $0.acceptedThenErrorRate = 0.5 }),
        ])
    func faults(_ fault: FaultCase) async throws {
        let events = try await Events { configuration in
            fault.configure(&configuration.faults)
            configuration.seed = 7
        }
        var status = ReferralSyncJob.ExitStatus.needsAttention
        for _ in 0..<8 where status != .success {
            status = await events.events(["--as-of", Self.asOf, "--max-attempts", "2"]).0
        }
        #expect(status == .success)
        var bodies: [String: Set<String>] = [:]
        for text in events.harness.simulator.acceptedEvents() {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            bodies[try #require(object["externalEventId"] as? String), default: []].insert(text)
        }
        #expect(bodies.count == 10)
        #expect(bodies.values.allSatisfy { $0.count == 1 })
        let unsent = try events.harness.database.query(
            "SELECT count(*) FROM referral_sync_events WHERE state <> 'delivered'")
        #expect(unsent.first?[0] == "0")
        if fault.name != "accepted then 500" {
            // Only an answer lost after the write can repeat an event.
            #expect(events.harness.simulator.acceptedEvents().count == 10)
        }
    }

    struct FaultCase: Sendable, CustomTestStringConvertible {
        var name: String
        var configure: @Sendable (inout FaultMix) -> Void
        var testDescription: String { name }
    }

    @Test("a customer who lands or is fixed later gets the events that were skipped for want of an identity")
    func dependentRowsAreDerivedAgain() async throws {
        let events = try await Events()
        try events.harness.database.run(
            """
            INSERT INTO referrals VALUES ('r7', 'c3', NULL, 'c9', 'email', '2025-01-10T18:00:00Z');
            """)
        #expect(await events.events(["--as-of", Self.asOf]).0 == .success)
        let before = try events.accepted().count
        // c9 (the recipient of r7) lands, and c3 (its referrer) fixes its email.
        try events.harness.database.run(
            """
            INSERT INTO customers (customer_id, email, first_name) VALUES ('c9', 'nine@example.com', 'Nine');
            UPDATE customers SET email = 'three@example.com' WHERE customer_id = 'c3';
            """)
        #expect(await events.events(["--as-of", Self.asOf]).0 == .success)
        let accepted = try events.accepted()
        let new = accepted.dropFirst(before)
        func sent(_ type: String, to email: String) -> Bool {
            new.contains { $0["type"] as? String == type && ($0["user"] as? [String: String])?["email"] == email }
        }
        #expect(sent("Okendo Referral Invitation", to: "nine@example.com"))
        #expect(sent("Sent Okendo Referral", to: "three@example.com"))
        #expect(sent("Opted In to Okendo Referrals", to: "three@example.com"))
        let ids = accepted.compactMap { $0["externalEventId"] as? String }
        #expect(Set(ids).count == ids.count)
    }

    @Test("a recipient's user never joins one person's email to another's phone")
    func recipientIdentityIsOnePerson() async throws {
        let events = try await Events()
        try events.harness.database.run(
            """
            UPDATE customers SET phone = '+14155550199' WHERE customer_id = 'c2';
            INSERT INTO referrals VALUES ('r6', 'c1', 'other@example.com', 'c2', 'email', '2025-01-10T18:30:00Z');
            """)
        #expect(await events.events(["--as-of", Self.asOf]).0 == .success)
        let invitations = try events.accepted().filter { $0["type"] as? String == "Okendo Referral Invitation" }
        let r6 = try #require(invitations.first { ($0["user"] as? [String: String])?["email"] == "other@example.com" })
        #expect(r6["user"] as? [String: String] == ["email": "other@example.com"])
        let r1 = try #require(invitations.first { ($0["user"] as? [String: String])?["email"] == "bob@example.com" })
        #expect(r1["user"] as? [String: String] == ["email": "bob@example.com", "phone": "+14155550199"])
    }

    @Test("run drops the event notes while events has never run, and keeps them once it has")
    func notesArePrunedUntilEventsRuns() async throws {
        let events = try await Events()
        func notes() throws -> String? {
            try events.harness.database.query("SELECT count(*) FROM referral_sync_event_notes").first?[0]
        }
        #expect(try notes() != "0")
        #expect(await events.harness.run(["--as-of", Self.asOf, "--currency", "USD"]).0 == .success)
        #expect(try notes() == "0")
        #expect(await events.events(["--as-of", Self.asOf]).0 == .success)
        try events.harness.database.run(
            "INSERT INTO referrals VALUES ('r9', 'c2', 'amy@example.com', NULL, 'email', '2025-01-10T19:00:00Z')")
        #expect(await events.harness.run(["--as-of", Self.asOf, "--currency", "USD"]).0 == .success)
        #expect(try notes() != "0")
        #expect(await events.events(["--as-of", Self.asOf]).0 == .success)
        #expect(try events.accepted().count == 12)
    }

    @Test("a dry run of one shard lists only that shard's events")
    func dryRunOfAShard() async throws {
        let events = try await Events()
        var listed = 0
        for shard in ["1/2", "2/2"] {
            let (status, reports) = await events.events(["--as-of", Self.asOf, "--dry-run", "--shard", shard])
            #expect(status == .success)
            let rows = try #require(reports).csv("events.csv").filter { $0["outcome"] == "dry_run" }
            #expect(rows.count < 10)
            listed += rows.count
        }
        #expect(listed == 10)
    }

    @Test("bidirectional and control characters never reach Attentive; the summary counts the events cleaned")
    func hostileTextIsCleanedOnTheWayOut() async throws {
        let events = try await Events()
        try events.harness.database.run(
            #"""
            UPDATE customers SET first_name = E'A\u202Enn\u0007', locale = E'en-US\n'
            WHERE customer_id = 'c1';
            UPDATE referral_rejections SET reason = E'same\u2066 IP\u2069' WHERE referral_id = 'r2';
            """#)
        let (status, reports) = await events.events(["--as-of", Self.asOf])
        #expect(status == .success)
        let texts = events.harness.simulator.acceptedEvents()
        #expect(texts.count == 10)
        #expect(!texts.contains { $0.unicodeScalars.contains { OutboundText.isHidden($0) } })
        #expect(!texts.contains { $0.contains("\\u0007") || $0.contains("\\n") })
        let optedIn = try events.only("Opted In to Okendo Referrals", role: "referrer")
        #expect((optedIn["properties"] as? [String: String])?["Referrer Name"] == "Ann Lee")
        #expect((optedIn["properties"] as? [String: String])?["Locale"] == "en-US")
        // The keys keep their order.
        let body = try #require(texts.first { $0.contains("\"Referrer Name\"") })
        let order = ["Locale", "Customer Role", "Referrer Name", "Referrer Email", "Date Opted-In"].compactMap {
            body.range(of: "\"\($0)\"")?.lowerBound
        }
        #expect(order.count == 5 && order == order.sorted())
        let rejected = try events.only("Okendo Referral Rejected", role: "referrer")
        #expect((rejected["properties"] as? [String: Any])?["Rejection Reason"] as? String == "same IP")
        let summary = try #require(reports).text("summary.md")
        // c1's opt-in, sent and invitation (its name), r2's recipient opt-in and both rejections (c1's locale).
        #expect(
            summary.contains("| (new events with bidirectional or control characters, removed before sending) | 6 |"))
    }

    @Test("two shards send disjoint slices of the ledger that together are every event")
    func shards() async throws {
        let events = try await Events()
        #expect(await events.events(["--as-of", Self.asOf, "--shard", "1/2"]).0 == .success)
        let first = try events.accepted().count
        #expect(first > 0 && first < 10)
        #expect(await events.events(["--as-of", Self.asOf, "--shard", "2/2"]).0 == .success)
        let ids = try events.accepted().compactMap { $0["externalEventId"] as? String }
        #expect(ids.count == 10)
        #expect(Set(ids).count == 10)
    }

    @Test("metrics (command events) pass promtool and add up; the run history has an events row")
    func metricsAndHistory() async throws {
        let events = try await Events()
        let path = events.harness.reportsDirectory + "/events.prom"
        #expect(await events.events(["--as-of", Self.asOf, "--metrics-file", path]).0 == .success)
        let check = try await MetricsFileTests.promtool(path)
        #expect(check.status == 0, "\(check.output)")
        let samples = try MetricsFileTests.samples(path)
        #expect(samples["referral_sync_events_total{command=\"events\",outcome=\"delivered\"}"] == 10)
        #expect(samples["referral_sync_events_total{command=\"events\",outcome=\"skipped\"}"] == 4)
        #expect(samples["referral_sync_pending_events{command=\"events\"}"] == 0)
        #expect(samples["referral_sync_last_exit_status{command=\"events\"}"] == 0)
        try events.harness.database.run(
            "INSERT INTO referrals VALUES ('r9', 'c2', 'amy@example.com', NULL, 'email', '2025-01-10T19:00:00Z')")
        #expect(await events.events(["--as-of", Self.asOf, "--metrics-file", path]).0 == .success)
        let after = try MetricsFileTests.samples(path)
        #expect(after["referral_sync_events_total{command=\"events\",outcome=\"delivered\"}"] == 12)
        #expect(after["referral_sync_last_run_events{command=\"events\",outcome=\"delivered\"}"] == 2)
        let history = try events.harness.database.query(
            "SELECT command, exit_status, outcome_counts FROM referral_sync_runs ORDER BY run_id")
        #expect(history.count == 2)
        #expect(history.allSatisfy { $0[0] == "events" && $0[1] == "0" })
        #expect(history.last?[2]?.contains("\"delivered\": 2") == true)
    }

    @Test("SIGTERM mid-send: no new request, those in flight recorded, exit 143; the next run sends the rest once")
    func stoppedBySignal() async throws {
        let events = try await Events { $0.latencyMilliseconds = 200 }
        let stop = StopSignal()
        async let stopped = events.events(["--as-of", Self.asOf, "--concurrency", "1"], stopSignal: stop)
        #expect(await events.harness.wait { events.harness.simulator.acceptedEvents().count >= 2 })
        stop.receive(SIGTERM)
        let (status, reports) = await stopped
        #expect(status == .terminated)
        let rows = try #require(reports).csv("events.csv")
        let delivered = rows.filter { $0["outcome"] == "delivered" }.count
        #expect(delivered == events.harness.simulator.acceptedEvents().count)
        #expect(
            rows.filter { $0["outcome"] == "failed" && $0["error"]?.hasPrefix("not sent: ") == true }.count
                == 10 - delivered)
        var fast = events.harness.simulator.configuration
        fast.latencyMilliseconds = 0
        events.harness.simulator.update(configuration: fast)
        #expect(await events.events(["--as-of", Self.asOf]).0 == .success)
        let ids = try events.accepted().compactMap { $0["externalEventId"] as? String }
        #expect(ids.count == 10)
        #expect(Set(ids).count == 10)
    }

    @Test("events runs beside a nightly run but never beside itself")
    func lock() async throws {
        let events = try await Events()
        let holder = try events.harness.database.connect()
        defer { holder.close() }
        #expect(try holder.tryAdvisoryLock(7_226_175_003_000))
        #expect(await events.events(["--as-of", Self.asOf]).0 == .locked)
        #expect(await events.harness.run(["--as-of", Self.asOf, "--currency", "USD"]).0 == .success)
        try holder.run("SELECT pg_advisory_unlock_all()")
        #expect(await events.events(["--as-of", Self.asOf]).0 == .success)
    }
}
