import Attentive
import Foundation
import Postgres
import ReferralModel
import ReferralStore

/// One report period of `events --follow` (`--report-every`): a run-history row and a report folder for many passes.
/// A pass is the `events` command's discovery and sending at the moment's as-of; it runs at once when the period
/// begins (what came while nobody followed), then after each notification (after a short gathering of the burst)
/// and at each sweep. The metrics file is rewritten at least every ``metricsInterval``.
struct FollowerPeriod {
    /// How long a notification waits for the rest of its burst before the pass: a load's statements commit within
    /// milliseconds of each other and make one pass.
    static let burstGathering: Duration = .milliseconds(25)
    /// The longest the metrics file goes unwritten (README "Timer or follower": at least once a minute).
    static let metricsInterval: Duration = .seconds(30)

    /// When the period began.
    var started: Timestamp
    /// Passes run after a notification.
    var wakeUps = 0
    /// Passes run at a sweep (or at the start of the period).
    var sweeps = 0
    /// The counts already added to the metrics file's counters by the writes during the period.
    var countsWritten: [EventOutcome: Int] = [:]
    /// How long the oldest events waiting have waited, at the last look.
    var lag = EventLedger.Lag()

    /// The period's counter increments not yet in the metrics file.
    func increments(_ counts: [EventOutcome: Int]) -> [EventOutcome: Int] {
        counts.reduce(into: [:]) { $0[$1.key] = $1.value - (countsWritten[$1.key] ?? 0) }
    }

    /// Runs one period under the lock the follower holds.
    /// - Parameters:
    ///   - backfill: `--backfill`, for the first pass only; cleared once that pass has read the history.
    ///   - databaseFault: Set when a database connection failed during the period (the follower reconnects).
    /// - Throws: When the period cannot begin (the writer cannot connect): the follower reconnects.
    static func run(
        context: JobContext, options: EventsOptions, follow: FollowOptions, term: StopSignal,
        lock: PostgresConnection, store: String, currency: Currency, listener: NotificationListener, log: FollowerLog,
        backfill: inout Bool, databaseFault: inout (any Error)?
    ) async throws -> RunResult {
        let periodContext = context.period(stopSignal: term, asOf: .now())
        let end = CommandEnd(context: periodContext, command: "events", started: .now)
        var stages = StageTimer()
        return try await Session.run(
            periodContext, command: "events", dryRun: false, heldLock: lock, store: store, currency: currency, end: end,
            stages: &stages
        ) { session, stages in
            var period = FollowerPeriod(started: periodContext.configuration.asOf)
            var report: EventsReport?
            var discovery = EventDiscovery.Summary()
            var failure: JobError?
            var pendingAfter: Int?
            var refused: Int?
            var refusedTypes = EventTypeOwnership.Refused()
            let base = EventStages(context: periodContext, session: session, options: options)
            do {
                let opened = try base.openReport()
                report = opened
                let clock = ContinuousClock()
                let periodEnd = clock.now + .milliseconds(Int64(follow.reportEverySeconds * 1000))
                var nextSweep = clock.now + .milliseconds(Int64(follow.sweepSeconds * 1000))
                var nextMetrics = clock.now + metricsInterval
                var woken = false
                var passDue = true
                var lastPassFailure: JobError?
                while true {
                    if passDue {
                        var passOptions = options
                        passOptions.backfill = backfill
                        let pass = try await EventStages(
                            context: periodContext.at(.now()), session: session, options: passOptions,
                            notOwnedTypes: Set(refusedTypes.types.keys)
                        ).discoverAndSend(report: opened, stages: &stages)
                        backfill = false
                        discovery.add(pass.discovery)
                        refusedTypes.add(pass.refusedTypes)
                        if woken { period.wakeUps += 1 } else { period.sweeps += 1 }
                        lastPassFailure = pass.failure
                        if let passFailure = pass.failure {
                            if term.mustStop || !EventFollower.statusesToGoOn.contains(passFailure.status) {
                                failure = passFailure
                                break
                            }
                            log.enter(
                                .attentive, "failing",
                                "a pass could not deliver every event: they stay pending, and the "
                                    + "next pass sends them again", [("error", passFailure.message)], level: .warning)
                        } else {
                            log.enter(.attentive, "delivering", "passes deliver again")
                        }
                    }
                    if clock.now >= nextMetrics {
                        period.lag = lag(on: session.writer, options) ?? period.lag
                        period.writeMetrics(
                            end, counts: opened.counts, status: lastPassFailure?.status ?? .success,
                            pending: try? EventLedger.unsentCount(on: session.writer), store: store)
                        period.countsWritten = opened.counts
                        nextMetrics = clock.now + metricsInterval
                    }
                    if clock.now >= periodEnd { break }
                    woken = listener.wait(until: min(periodEnd, nextSweep, nextMetrics), stop: term)
                    if woken { listener.gather(for: burstGathering) }
                    stages.add("wait")
                    if term.mustStop { break }
                    // A pass after a notification, at a sweep, and at the period's end (what its folder reports);
                    // none when only the metrics' moment came.
                    let sweep = clock.now >= nextSweep
                    if sweep { nextSweep = clock.now + .milliseconds(Int64(follow.sweepSeconds * 1000)) }
                    passDue = woken || sweep || clock.now >= periodEnd
                }
                (pendingAfter, refused) = try base.afterSending(report: opened)
                period.lag = lag(on: session.writer, options) ?? period.lag
            } catch {
                databaseFault = error
                if (try? lock.query("SELECT 1")) == nil {
                    // The lock's own session is gone (the watch may not have looked yet): the lock is lost, which
                    // says more than the statement that failed on it.
                    let why = "its database session ended: \(error)"
                    term.loseLock(why)
                    failure = failure ?? JobError.lockLost(why)
                }
                failure = failure ?? JobError(classifying: error)
            }
            if failure == nil, let signal = term.stopRequest { failure = JobError.stopped(by: signal) }
            return base.ending(
                report, discovery: discovery, failure: failure, refusedTypes: refusedTypes, pendingAfter: pendingAfter,
                refused: refused, follower: period)
        }
    }

    /// How long the events still to deliver have waited now; `nil` when it cannot be read (the last figure stays).
    private static func lag(on connection: PostgresConnection, _ options: EventsOptions) -> EventLedger.Lag? {
        try? EventLedger.lag(
            on: connection, freshSince: Timestamp.now().adding(seconds: -options.maxAgeHours * 3600),
            heldBackCode: EventTypeOwnership.code)
    }

    /// Writes the metrics file in the middle of a period: the counts since the last write, the lag, the pending events.
    private func writeMetrics(
        _ end: CommandEnd, counts: [EventOutcome: Int], status: ExitStatus, pending: Int?, store: String
    ) {
        end.writeMetrics(
            status, stageSeconds: [], participants: 0,
            families: EventCounts.metricFamilies(counts, pending: pending, increments: increments(counts))
                + lagFamilies,
            store: store, heldByAnother: false)
    }

    /// The follower's own gauges: how long the oldest waiting events have waited.
    var lagFamilies: [MetricFamily] {
        [
            MetricFamily(
                name: "referral_sync_events_lag_seconds", kind: .gauge,
                help: "events --follow: seconds since the oldest event still to deliver was found (0 when none "
                    + "waits); events refused for their content or of a type another app owns are not counted.",
                samples: [([], lag.oldest ?? 0)]),
            MetricFamily(
                name: "referral_sync_events_fresh_lag_seconds", kind: .gauge,
                help: "events --follow: the same for events inside --max-age only (a backfill's history does not "
                    + "count): the age that delays journeys.",
                samples: [([], lag.oldestFresh ?? 0)]),
        ]
    }
}
