import Foundation
import TestSupport
import Testing

/// `referral-sync events` killed mid-send (SIGKILL: no chance to record anything) and run again: every event
/// reaches Attentive, always with its one id and one body, and only an event whose 2xx the killed run could not
/// record can arrive twice.
@Suite struct KilledEventsTests {
    static let asOf = "2025-03-01T12:00:00Z"

    /// 40 customers who opted in an hour before the as-of, each with an email referral: 120 events.
    static let history = """
        INSERT INTO customers (customer_id, email, first_name, last_name, locale, opted_in_at)
        SELECT 'c' || i, 'c' || i || '@example.com', 'First' || i, 'Last' || i, 'en',
               '2025-03-01T11:00:00Z'::timestamptz + i * interval '1 second'
        FROM generate_series(1, 40) AS i;
        INSERT INTO referrals (referral_id, referrer_id, recipient_email, channel, created_at)
        SELECT 'r' || i, 'c' || i, 'friend' || i || '@example.com', 'email',
               '2025-03-01T11:30:00Z'::timestamptz + i * interval '1 second'
        FROM generate_series(1, 40) AS i;
        """

    @Test func eventsKilledMidSendThenRerunDeliverEveryEventWithOneBodyPerID() async throws {
        let harness = try await ExecutableHarness { $0.latencyMilliseconds = 150 }
        try harness.database.run(Self.history)
        let arguments = ["events", "--as-of", Self.asOf, "--currency", "USD", "--concurrency", "1"]
        let victim = try JobProcess(arguments, environment: harness.environment)
        let midSend = await harness.wait { harness.simulator.acceptedEvents().count >= 5 }
        #expect(midSend)
        kill(victim.process.processIdentifier, SIGKILL)
        let killed = await victim.wait()
        #expect(killed.killedBySignal)
        let acceptedBeforeKill = harness.simulator.acceptedEvents().count
        #expect(acceptedBeforeKill < 120)

        var fast = harness.simulator.configuration
        fast.latencyMilliseconds = 0
        harness.simulator.update(configuration: fast)
        let rerun = try await JobProcess.run(arguments, environment: harness.environment)
        #expect(rerun.status == 0, "\(rerun.stderr)")

        var bodies: [String: [String]] = [:]
        for text in harness.simulator.acceptedEvents() {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            bodies[try #require(object["externalEventId"] as? String), default: []].append(text)
        }
        #expect(bodies.count == 120)
        #expect(bodies.values.allSatisfy { Set($0).count == 1 })
        // One request was in flight when the kill landed: at most that one event arrives twice.
        #expect(bodies.values.filter { $0.count > 1 }.count <= 1)
        let unsent = try harness.database.query("SELECT count(*) FROM referral_sync_events WHERE state <> 'delivered'")
        #expect(unsent.first?[0] == "0")
        // A third run has nothing to send.
        let quiet = try await JobProcess.run(arguments, environment: harness.environment)
        #expect(quiet.status == 0, "\(quiet.stderr)")
        #expect(harness.simulator.acceptedEvents().count == bodies.values.map(\.count).reduce(0, +))
    }
}
