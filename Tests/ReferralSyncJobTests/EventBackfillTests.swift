import AttentiveSimulator
import Foundation
import ReferralSyncCLI
import ReferralSyncJob
import TestSupport
import Testing

/// Backfills a chunk at a time (issue 25): every event once over many chunks, a fresh event committed during a
/// backfill sent before the rest of the history, a stopped backfill finished by the next plain run.
@Suite("Events: backfills in chunks, fresh events first, resumed after a stop")
struct EventBackfillTests {
    /// `count` customers who opted in two days ago, each with an email referral: 3 events each, all history (older
    /// than `--max-age`).
    static func history(_ count: Int) -> String {
        """
        INSERT INTO customers (customer_id, email, first_name, last_name, locale, opted_in_at)
        SELECT 'c' || i, 'c' || i || '@example.com', 'First', 'Last', 'en',
               now() - interval '2 days' + i * interval '1 second'
        FROM generate_series(1, \(count)) AS i;
        INSERT INTO referrals (referral_id, referrer_id, recipient_email, channel, created_at)
        SELECT 'r' || i, 'c' || i, 'friend' || i || '@example.com', 'email',
               now() - interval '2 days' + i * interval '1 second'
        FROM generate_series(1, \(count)) AS i;
        """
    }

    /// A harness with `customers` of history. `@unchecked Sendable`: one test uses it; the simulator is
    /// thread-safe and the database is read through connections of the test's own.
    final class Backfill: @unchecked Sendable {
        let harness: JobHarness
        init(customers: Int, simulator configure: (inout SimulatorConfiguration) -> Void = { _ in }) async throws {
            harness = try await JobHarness(simulator: configure)
            try harness.database.run(EventBackfillTests.history(customers))
        }

        /// `referral-sync events` in process, reading and sending `chunkSize` events at a time.
        func events(_ arguments: [String], chunkSize: Int, stopSignal: StopSignal = StopSignal()) async -> (
            ReferralSyncJob.ExitStatus, ReportFiles?
        ) {
            let status = await EventsOptions.$chunkSize.withValue(chunkSize) {
                await ReferralSyncCommand.main(
                    arguments: ["events", "--reports-dir", harness.reportsDirectory, "--currency", "USD"] + arguments,
                    environment: harness.environment, stopSignal: stopSignal, output: { _ in })
            }
            let latest = harness.reportsDirectory + "/latest"
            let files = FileManager.default.fileExists(atPath: latest + "/summary.md") ? ReportFiles(path: latest) : nil
            return (status, files)
        }

        /// The `externalEventId` of every accepted event, in the order the simulator received them.
        func acceptedIDs() throws -> [String] {
            try harness.simulator.acceptedEvents().map { try Self.field("externalEventId", of: $0) }
        }

        static func field(_ name: String, of body: String) throws -> String {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
            return try #require(object[name] as? String)
        }

        func ledgerStates() throws -> [String: String] {
            var states: [String: String] = [:]
            for row in try harness.database.query("SELECT state, count(*) FROM referral_sync_events GROUP BY state") {
                states[row[0] ?? ""] = row[1]
            }
            return states
        }
    }

    @Test("a backfill read in chunks of 7 delivers every event exactly once")
    func everyEventOnceOverManyChunks() async throws {
        let backfill = try await Backfill(customers: 40)
        let (status, reports) = await backfill.events(["--backfill", "--concurrency", "4"], chunkSize: 7)
        #expect(status == .success)
        let ids = try backfill.acceptedIDs()
        #expect(ids.count == 120)
        #expect(Set(ids).count == 120)
        let rows = try #require(reports).csv("events.csv")
        #expect(rows.filter { $0["outcome"] == "delivered" }.count == 120)
        #expect(Set(rows.compactMap { $0["event_id"] }) == Set(ids))
        #expect(try backfill.ledgerStates() == ["delivered": "120"])
    }

    @Test("an event that fails is tried once per run, not again by the next chunk; the next run sends it")
    func failedEventsAreNotRetriedWithinTheRun() async throws {
        let backfill = try await Backfill(customers: 10) { $0.faults.internalErrorRate = 1 }
        let (status, reports) = await backfill.events(
            ["--backfill", "--max-attempts", "1", "--concurrency", "2"], chunkSize: 4)
        #expect(status == .needsAttention)
        #expect(backfill.harness.simulator.statistics().requests == 30)
        let rows = try #require(reports).csv("events.csv")
        #expect(rows.count == 30)
        #expect(rows.allSatisfy { $0["outcome"] == "failed" })
        #expect(try backfill.ledgerStates() == ["failed": "30"])

        var healthy = backfill.harness.simulator.configuration
        healthy.faults = FaultMix()
        backfill.harness.simulator.update(configuration: healthy)
        #expect(await backfill.events([], chunkSize: 4).0 == .success)
        #expect(Set(try backfill.acceptedIDs()).count == 30)
        #expect(try backfill.ledgerStates() == ["delivered": "30"])
    }

    @Test("an invitation committed during a backfill is sent within a chunk, before the rest of the history")
    func freshEventJumpsTheHistory() async throws {
        let chunk = 10
        let backfill = try await Backfill(customers: 100) { $0.latencyMilliseconds = 15 }
        async let run = backfill.events(["--backfill", "--concurrency", "1"], chunkSize: chunk)
        #expect(await backfill.harness.wait { backfill.harness.simulator.acceptedEvents().count >= 3 * chunk })
        // Dated at its commit, after the run began: fresh, and due only because the notes between chunks are
        // taken as of now.
        try backfill.harness.database.run(
            """
            INSERT INTO referrals (referral_id, referrer_id, recipient_email, channel, created_at)
            VALUES ('fresh', 'c1', 'fresh.friend@example.com', 'email', now())
            """)
        let sentBeforeCommit = backfill.harness.simulator.acceptedEvents().count
        let (status, _) = await run
        #expect(status == .success)

        let accepted = backfill.harness.simulator.acceptedEvents()
        #expect(accepted.count == 302)
        #expect(Set(try backfill.acceptedIDs()).count == 302)
        let fresh = try #require(accepted.firstIndex { $0.contains("fresh.friend@example.com") })
        // The chunk being sent when it was committed, then the next chunk takes it first.
        #expect(fresh < sentBeforeCommit + 2 * chunk, "fresh at \(fresh), committed after \(sentBeforeCommit)")
        #expect(accepted.count - fresh > 100, "the rest of the history is sent after it")
    }

    @Test("a backfill stopped partway is finished by the next plain run, no event delivered twice")
    func stoppedBackfillResumes() async throws {
        let backfill = try await Backfill(customers: 40) { $0.latencyMilliseconds = 30 }
        let stop = StopSignal()
        async let stopped = backfill.events(["--backfill", "--concurrency", "1"], chunkSize: 7, stopSignal: stop)
        #expect(await backfill.harness.wait { backfill.harness.simulator.acceptedEvents().count >= 20 })
        stop.receive(SIGTERM)
        let (status, _) = await stopped
        #expect(status == .terminated)
        let delivered = try backfill.acceptedIDs().count
        #expect(delivered < 120)
        #expect(try backfill.ledgerStates()["delivered"] == String(delivered))

        var fast = backfill.harness.simulator.configuration
        fast.latencyMilliseconds = 0
        backfill.harness.simulator.update(configuration: fast)
        let (resumed, reports) = await backfill.events([], chunkSize: 7)
        #expect(resumed == .success)
        let ids = try backfill.acceptedIDs()
        #expect(ids.count == 120)
        #expect(Set(ids).count == 120)
        #expect(
            try #require(reports).csv("events.csv").filter { $0["outcome"] == "delivered" }.count == 120 - delivered)
        #expect(try backfill.ledgerStates() == ["delivered": "120"])
    }
}
