import ReferralSyncJob
import TestSupport
import Testing

/// The first `events` run's window (README "Schedule and the age rule"): it reads the rows of the last `--max-age`
/// hours up to the as-of; the rows dated after the as-of do not exist yet, so they are noted for their time in SQL,
/// never read into the job (BENCHMARKS.md "Events": the first run's memory).
@Suite("Events: the first run's window")
struct EventFirstRunTests {
    /// `EventsTests.history` at 12:30: c1 (10:00), c3 (11:00), r1 (12:00) and the coupon FRIEND10 (12:00:01) are in
    /// the window; r2, r3, the orders o1, o2 (of r1) and o3 (of r2), r2's rejection and REWARD5 come later.
    static let asOf = "2025-01-10T12:30:00Z"

    /// The rows after the as-of, each as its note: source, key (an order's referral), time.
    static let later: Set<[String]> = [
        ["referrals", "r2", "2025-01-10 13:00:00"], ["referrals", "r3", "2025-01-10 14:00:00"],
        ["referral_orders", "r1", "2025-01-10 15:00:00"], ["referral_orders", "r1", "2025-01-10 16:00:00"],
        ["referral_orders", "r2", "2025-01-10 16:30:00"], ["referral_rejections", "r2", "2025-01-10 17:00:00"],
        ["referral_coupons", "REWARD5", "2025-01-10 15:00:01"],
    ]

    func notes(_ events: EventsTests.Events) throws -> Set<[String]> {
        Set(
            try events.harness.database.query(
                """
                SELECT source, key, to_char(not_before AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')
                FROM referral_sync_event_notes WHERE not_before IS NOT NULL
                """
            ).map { row in (0..<3).map { row[$0] ?? "" } })
    }

    @Test("rows dated after the as-of are noted for their time, not read; the run whose as-of reaches them sends them")
    func laterRowsAreNotedNotRead() async throws {
        let events = try await EventsTests.Events()

        // A dry run notes nothing: its discovery is rolled back.
        #expect(await events.events(["--as-of", Self.asOf, "--dry-run"]).0 == .success)
        #expect(try notes(events).isEmpty)

        let (status, reports) = await events.events(["--as-of", Self.asOf])
        #expect(status == .success)
        let summary = try #require(reports).text("summary.md")
        #expect(summary.contains("- Read: 4 rows of the last 12 hours (first events run)"))
        #expect(summary.contains("The 7 rows dated after the as-of were noted for their time"))
        // Each later row has its note, at its own time (a row in the window may note its later dependents too).
        #expect(try notes(events).isSuperset(of: Self.later))
        #expect(try events.accepted().count == 4)

        // The next run's as-of reaches them: their events are sent, each once.
        #expect(await events.events(["--as-of", EventsTests.asOf]).0 == .success)
        let ids = try events.accepted().compactMap { $0["externalEventId"] as? String }
        #expect(ids.count == 10)
        #expect(Set(ids).count == 10)
        #expect(try notes(events).isEmpty)
    }
}
