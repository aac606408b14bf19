import Foundation
import Postgres
import ReferralSyncCLI
import ReferralSyncJob
import TestSupport
import Testing

/// `--event-body-retention-days` (README "Personal data"): a delivered event's frozen body loses its properties
/// and user after the retention; exactly-once, resting on the id, still holds.
@Suite("Events: the retention of delivered bodies")
struct EventBodyRetentionTests {
    func events(_ harness: JobHarness, _ extra: [String] = []) async -> ReferralSyncJob.ExitStatus {
        await ReferralSyncCommand.main(
            arguments: [
                "events", "--as-of", "2025-01-10T20:00:00Z", "--reports-dir", harness.reportsDirectory,
                "--currency", "USD", "--default-phone-region", "US",
            ] + extra,
            environment: harness.environment, output: { _ in })
    }

    @Test("an old delivered body keeps id, type, time and hash; a recent one is whole; nothing is sent twice")
    func oldBodiesAreStrippedAndNeverResent() async throws {
        let harness = try await JobHarness()
        try harness.database.run(ForgetTests.history)
        #expect(await events(harness) == .success)
        let delivered = harness.simulator.acceptedEvents().count
        #expect(delivered >= 2)
        let rows = try harness.database.query(
            "SELECT event_key, body FROM referral_sync_events WHERE state = 'delivered' ORDER BY event_key")
        let old = try #require(rows.first)
        let (oldKey, oldBody) = (old[0] ?? "", old[1] ?? "")
        let recentKey = rows.last?[0] ?? ""
        try harness.database.run(
            """
            UPDATE referral_sync_events SET delivered_at = now() - interval '31 days'
            WHERE event_key = '\(oldKey.replacingOccurrences(of: "'", with: "''"))'
            """)

        // The same source rows, read again from the whole history: the stripped event is not sent again.
        #expect(await events(harness, ["--backfill"]) == .success)
        #expect(harness.simulator.acceptedEvents().count == delivered)
        let after = try harness.database.query(
            """
            SELECT event_key, state, body::jsonb ? 'properties', body::jsonb ? 'user', body::jsonb ? 'externalEventId',
                   body::jsonb ? 'type', body::jsonb ? 'occurredAt', user_email IS NULL AND user_phone IS NULL,
                   body_sha256 = encode(sha256(convert_to($1, 'UTF8')), 'hex'), type, role, source_row, occurred_at
            FROM referral_sync_events WHERE event_key IN ($2, $3) ORDER BY event_key = $2 DESC
            """, [oldBody, oldKey, recentKey])
        let stripped = try #require(after.first)
        #expect(stripped[1] == "delivered")
        #expect(stripped.bool(2) == false)
        #expect(stripped.bool(3) == false)
        #expect([4, 5, 6, 7, 8].allSatisfy { stripped.bool($0) == true })
        #expect([9, 10, 11, 12].allSatisfy { !(stripped[$0] ?? "").isEmpty })
        let recent = try #require(after.last)
        #expect(recent[0] == recentKey)
        #expect(recent.bool(2) == true || recent.bool(3) == true)
        #expect(recent.bool(7) == false)

        // A retention of 0 strips every delivered body, and still nothing is sent again.
        #expect(await events(harness, ["--backfill", "--event-body-retention-days", "0"]) == .success)
        #expect(harness.simulator.acceptedEvents().count == delivered)
        let whole = try harness.database.query(
            "SELECT count(*) FROM referral_sync_events WHERE body::jsonb ? 'user' OR body::jsonb ? 'properties'")
        #expect(whole.first?.int(0) == 0)
    }

    @Test("a retention that is not a whole number of days stops the command (78 from the variable)")
    func badRetentionStops() async throws {
        let harness = try await JobHarness()
        let status = await ReferralSyncCommand.main(
            arguments: ["events", "--reports-dir", harness.reportsDirectory, "--currency", "USD"],
            environment: harness.environment.merging(["REFERRAL_SYNC_EVENT_BODY_RETENTION_DAYS": "a month"]) { $1 },
            output: { _ in })
        #expect(status == .configuration)
        #expect(harness.simulator.acceptedEvents().isEmpty)
    }
}
