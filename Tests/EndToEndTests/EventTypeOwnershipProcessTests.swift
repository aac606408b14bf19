import Foundation
import TestSupport
import Testing

/// Attentive's one-app-per-event-type rule, with the built binary as a scheduler runs it: a merchant who ran
/// Okendo's own integration has two of the types created by Okendo's app, so Attentive answers 403 to them while
/// the key works. The run says so (exit 1, `type_not_owned`), never "fix the key" (77); a names file then delivers
/// them under the merchant's names with the same ids.
@Suite struct EventTypeOwnershipProcessTests {
    static let foreign = ["Sent Okendo Referral", "Okendo Referral Invitation"]

    /// Three customers who opted in now, each with an email referral made now: nine events, six of foreign types.
    static let history = """
        INSERT INTO customers (customer_id, email, first_name, last_name, locale, opted_in_at)
        SELECT 'o' || i, 'o' || i || '@example.com', 'First', 'Last', 'en', now() FROM generate_series(1, 3) AS i;
        INSERT INTO referrals (referral_id, referrer_id, recipient_email, channel, created_at)
        SELECT 'r-o' || i, 'o' || i, 'friend-o' || i || '@example.com', 'email', now() FROM generate_series(1, 3) AS i;
        """

    static func typesAndIDs(_ bodies: [String]) throws -> [(type: String, id: String)] {
        try bodies.map { text in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            return (try #require(object["type"] as? String), try #require(object["externalEventId"] as? String))
        }
    }

    @Test func foreignTypesExitOneThenANamesFileDeliversThemWithTheSameIDs() async throws {
        let harness = try await ExecutableHarness { $0.faults.foreignEventTypes = Self.foreign }
        try harness.database.run(Self.history)
        let first = try await JobProcess.run(["events", "--currency", "USD"], environment: harness.environment)
        #expect(first.status == 1, "\(first.stderr)")
        #expect(first.stderr.contains("--event-type-names"))
        let csv = try String(contentsOfFile: harness.reportsDirectory + "/latest/events.csv", encoding: .utf8)
        #expect(csv.components(separatedBy: ",failed,").count - 1 == 6, "\(csv)")
        #expect(csv.components(separatedBy: "type_not_owned").count - 1 == 6, "\(csv)")
        let delivered = try Self.typesAndIDs(harness.simulator.acceptedEvents())
        #expect(delivered.count == 3)
        #expect(delivered.allSatisfy { $0.type == "Opted In to Okendo Referrals" })
        let pending = try harness.database.query(
            "SELECT event_id::text FROM referral_sync_events WHERE error LIKE 'type\\_not\\_owned%' AND state <> 'delivered'"
        )
        #expect(pending.count == 6)

        let names = try makeTemporaryFolder("names") + "/event-types.txt"
        try """
        # Ours: Okendo's app created the originals.
        Sent Okendo Referral = Shop Referral Sent
        Okendo Referral Invitation = Shop Referral Invitation
        """.write(toFile: names, atomically: true, encoding: .utf8)
        let second = try await JobProcess.run(
            ["events", "--currency", "USD", "--event-type-names", names], environment: harness.environment)
        #expect(second.status == 0, "\(second.stderr)")
        let all = try Self.typesAndIDs(harness.simulator.acceptedEvents())
        #expect(all.count == 9)
        #expect(Set(all.map(\.id)).count == 9)
        #expect(Set(all.dropFirst(3).map(\.type)) == ["Shop Referral Sent", "Shop Referral Invitation"])
        #expect(Set(all.dropFirst(3).map(\.id)) == Set(pending.compactMap { $0[0] }))
    }

    @Test func aBadNamesFileExits78NamingItsLine() async throws {
        let harness = try await ExecutableHarness()
        let names = try makeTemporaryFolder("names") + "/event-types.txt"
        try "Sent Okendo Referral = Ours\nOkendo Referral Invitation = Ours\n"
            .write(toFile: names, atomically: true, encoding: .utf8)
        let run = try await JobProcess.run(
            ["events", "--currency", "USD", "--event-type-names", names], environment: harness.environment)
        #expect(run.status == 78, "\(run.stderr)")
        #expect(run.stderr.contains("line 2"), "\(run.stderr)")
        #expect(harness.simulator.acceptedEvents().isEmpty)
    }
}
