import Attentive
import Foundation
import Postgres
import ReferralModel
import ReferralStore
import Reports

/// The options only `referral-sync events` has.
public struct EventsOptions: Sendable {
    /// `--max-age`: an event first found older than this many hours at the as-of is not sent (`too_old`): it would
    /// trigger no journey (Attentive ignores events older than 12 hours for journeys).
    public var maxAgeHours: Double
    /// `--backfill`: consider the whole history and send every event not yet delivered, whatever its age.
    public var backfill: Bool
    /// `--event-body-retention-days`: a delivered event's frozen body keeps its properties and user this long
    /// (README "Personal data").
    public var bodyRetentionDays: Int
    /// `--event-type-names`: the name Attentive receives for each of Okendo's types (checked before the run).
    public var eventTypeNames: EventTypeNames

    /// `--follow` and its settings; `nil` for one run.
    public var follow: FollowOptions?

    public init(
        maxAgeHours: Double = 12, backfill: Bool = false, bodyRetentionDays: Int = 30,
        eventTypeNames: EventTypeNames = EventTypeNames(), follow: FollowOptions? = nil
    ) {
        self.maxAgeHours = maxAgeHours
        self.backfill = backfill
        self.bodyRetentionDays = bodyRetentionDays
        self.eventTypeNames = eventTypeNames
        self.follow = follow
    }

    /// Events read from the ledger and sent per chunk: a run holds one chunk of bodies at a time, and a fresh event
    /// committed while it sends waits at most one chunk. Not an option (nothing to tune for a user): tests lower
    /// it to cross chunk boundaries with a few events.
    @TaskLocal public static var chunkSize = 500
}

/// The settings of `events --follow` (README "Events": the follower).
public struct FollowOptions: Sendable {
    /// `--sweep-seconds`: the longest wait without a notification before the follower looks anyway.
    public var sweepSeconds: Double
    /// `--report-every`: how long one report period (folder, run-history row) lasts, in seconds.
    public var reportEverySeconds: Double

    public init(sweepSeconds: Double = 60, reportEverySeconds: Double = 3600) {
        self.sweepSeconds = sweepSeconds
        self.reportEverySeconds = reportEverySeconds
    }
}

extension SyncRun {
    /// `referral-sync events`: finds the referral events the landing zone implies and Attentive has not had,
    /// sends them, records each outcome in the events ledger and writes `events.csv` and `summary.md`. Runs under
    /// its own lock (beside a `run`, never beside itself) and on the pipeline's thread, like `run`.
    public func sendEvents(_ options: EventsOptions) async -> RunResult {
        let context = self.context
        return await PipelineThread.run {
            await Session.open(
                context, command: "events", dryRun: context.configuration.dryRun, lock: .events
            ) { session, stages in
                await EventStages(context: context, session: session, options: options).run(stages: &stages)
            }
        }
    }
}

/// What `events` did, by outcome (`events.csv`'s outcome column), as the run history keeps it.
enum EventCounts {
    /// The outcomes of `events.csv`, in report order.
    static let outcomes = EventOutcome.allCases

    /// The events command's own metric families: events by outcome (a counter and the last run's), pending events.
    /// - Parameter increments: What the counter adds (a follower's metrics written during its period added the
    ///   rest already); `counts` when `nil`.
    static func metricFamilies(
        _ counts: [EventOutcome: Int], pending: Int?, refused: Int? = nil, increments: [EventOutcome: Int]? = nil
    ) -> [MetricFamily] {
        let added = increments ?? counts
        return [
            MetricFamily(
                name: "referral_sync_events_total", kind: .counter,
                help: "Referral events by outcome, summed over the runs that wrote this file.",
                samples: outcomes.map { ([("outcome", $0.rawValue)], Double(added[$0] ?? 0)) }),
            MetricFamily(
                name: "referral_sync_last_run_events", kind: .gauge,
                help: "Referral events of the last run by outcome.",
                samples: outcomes.map { ([("outcome", $0.rawValue)], Double(counts[$0] ?? 0)) }),
            // No sample (so no series) when the pending ones could not be counted.
            MetricFamily(
                name: "referral_sync_pending_events", kind: .gauge,
                help: "Referral events not yet delivered to Attentive and still tried after the last run "
                    + "(refused ones are not counted: referral_sync_refused_events).",
                samples: pending.map { [([], Double($0))] } ?? []),
            RefusedListing.metricFamily(name: "referral_sync_refused_events", of: "Referral events", standing: refused),
        ]
    }
}

/// The stages of one `events` run, in order: discover (take the notes, derive the events, add the new ones to the
/// ledger) → send (every event of the ledger not yet delivered, a chunk at a time, fresh first, with the notes
/// discovered again between chunks) → report.
struct EventStages {
    let context: JobContext
    let session: Session
    let options: EventsOptions
    /// Types an earlier pass of the same follower period found owned by another app: their events are recorded
    /// `type_not_owned` without a request.
    var notOwnedTypes: Set<String> = []
    var configuration: RunConfiguration { context.configuration }

    func run(stages: inout StageTimer) async -> CommandEnding {
        var failure: JobError?
        var report: EventsReport?
        var discovery = EventDiscovery.Summary()
        var pendingAfter: Int?
        var refused: Int?
        var refusedTypes = EventTypeOwnership.Refused()
        do {
            let opened = try openReport()
            report = opened
            let pass = try await discoverAndSend(report: opened, stages: &stages)
            (discovery, failure, refusedTypes) = (pass.discovery, pass.failure, pass.refusedTypes)
            (pendingAfter, refused) = try afterSending(report: opened)
        } catch {
            failure = failure ?? JobError(classifying: error)
        }
        return ending(
            report, discovery: discovery, failure: failure, refusedTypes: refusedTypes, pendingAfter: pendingAfter,
            refused: refused)
    }

    /// Opens the run's report folder and `events.csv`.
    func openReport() throws -> EventsReport {
        let folder = try ReportFolder(root: configuration.reportsDirectory, runID: context.runKey)
        return try EventsReport(folder: folder, dryRun: configuration.dryRun)
    }

    /// One pass: discover (the notes due at the as-of), then send every unsent event. `events` makes one; the
    /// follower one at each wake-up, on the same report.
    /// - Returns: What discovery saw, and why the sending stopped early, if it did.
    /// - Throws: When discovery fails (nothing was sent).
    ///   And the types Attentive refused although the key works (``EventTypeOwnership``).
    func discoverAndSend(report: EventsReport, stages: inout StageTimer) async throws
        -> (discovery: EventDiscovery.Summary, failure: JobError?, refusedTypes: EventTypeOwnership.Refused)
    {
        if configuration.dryRun {
            let (discovery, failure) = try discoverAndListDryRun(report: report)
            stages.add("discover")
            stages.add("send")
            return (discovery, failure, EventTypeOwnership.Refused())
        }
        var discovery = try EventDiscovery(context: context, session: session, options: options, report: report)
            .run()
        stages.add("discover")
        let (failure, refusedTypes) = await sendUnsent(report: report, discovery: &discovery)
        stages.add("send")
        return (discovery, failure, refusedTypes)
    }

    /// After the sending: the events left to send, the bodies past their retention stripped, `refused.csv`.
    /// - Returns: The unsent events (`nil` when a dry run or they could not be counted) and the standing refused ones.
    func afterSending(report: EventsReport) throws -> (pendingAfter: Int?, refused: Int?) {
        var pendingAfter: Int?
        if !configuration.dryRun {
            pendingAfter = try? EventLedger.unsentCount(on: session.writer)
            let stripped = try EventLedger.stripDeliveredBodies(
                olderThanDays: options.bodyRetentionDays, runID: session.runID, on: session.writer)
            if stripped > 0 {
                context.logger.info(
                    "stripped the bodies of events delivered long ago",
                    [("events", String(stripped)), ("retention_days", String(options.bodyRetentionDays))])
            }
        }
        let refused = try RefusedListing.write(
            .events, to: report.folder, shard: configuration.shard, on: session.writer)
        return (pendingAfter, refused)
    }

    /// How the run ended, in its own terms (the session publishes `summary.md` and ends it).
    /// - Parameters:
    ///   - follower: A follower's period: what its summary adds, and the counters' increments since the metrics
    ///     file was last written (the period's counts otherwise).
    func ending(
        _ report: EventsReport?, discovery: EventDiscovery.Summary, failure: JobError?,
        refusedTypes: EventTypeOwnership.Refused, pendingAfter: Int?, refused: Int?, follower: FollowerPeriod? = nil
    ) -> CommandEnding {
        let counts = report?.counts ?? [:]
        let failed = counts[.failed] ?? 0
        let newlyRefused = counts[.refused] ?? 0
        let status = failure?.status ?? (failed + newlyRefused > 0 ? .needsAttention : .success)
        let message =
            failure?.description
            ?? (!refusedTypes.isEmpty
                ? refusedTypes.message(otherFailures: failed - refusedTypes.events)
                : failed > 0
                    ? "\(failed) events failed and stay pending: see events.csv; the next run sends them again"
                    : newlyRefused > 0
                        ? "\(newlyRefused) events refused by Attentive for their content: see refused.csv; they are "
                            + "not sent again (--retry-refused sends them)" : "done")
        var history = HistoryCounts()
        for (outcome, count) in counts.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            history.set(outcome.rawValue, count)
        }
        let options = self.options
        return CommandEnding(
            status: status, message: message,
            report: report.map { report in
                CommandReport(
                    folder: report.folder, close: { try report.close() },
                    summary: { end in
                        EventsSummary(
                            end: end, options: options, discovery: discovery, counts: counts,
                            pendingAfter: pendingAfter, refused: refused, follower: follower
                        ).markdown()
                    })
            }, closingLine: "events finished",
            closingFields: [("exit_status", status.description)]
                + EventCounts.outcomes.map { ($0.rawValue, String(counts[$0] ?? 0)) }
                + [("already_delivered", String(discovery.alreadyDelivered)), ("not_yet", String(discovery.notYet))],
            pending: pendingAfter,
            metricFamilies: EventCounts.metricFamilies(
                counts, pending: pendingAfter, refused: refused, increments: follower?.increments(counts))
                + (follower?.lagFamilies ?? []),
            historyCounts: history)
    }
}
