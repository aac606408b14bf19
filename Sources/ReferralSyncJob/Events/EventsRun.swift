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

    public init(maxAgeHours: Double = 12, backfill: Bool = false) {
        self.maxAgeHours = maxAgeHours
        self.backfill = backfill
    }
}

extension SyncRun {
    /// `referral-sync events`: finds the referral events the landing zone implies and Attentive has not had,
    /// sends them, records each outcome in the events ledger and writes `events.csv` and `summary.md`. Runs under
    /// its own lock (beside a `run`, never beside itself) and on the pipeline's thread, like `run`.
    public func sendEvents(_ options: EventsOptions) async -> RunResult {
        let context = self.context
        return await PipelineThread.run {
            let started = ContinuousClock.now
            return await Session.open(
                context, command: "events", dryRun: context.configuration.dryRun, lock: .events
            ) { session, stages in
                let result = await EventStages(context: context, session: session, options: options)
                    .run(stages: &stages, started: started)
                return (result, EventCounts.historyJSON(result.eventCounts ?? [:]))
            }
        }
    }
}

/// What `events` did, by outcome (`events.csv`'s outcome column), as the run history keeps it.
enum EventCounts {
    /// `{"delivered":3,"failed":1}`: the outcomes that occurred, by their report words in order of those words.
    static func historyJSON(_ counts: [EventOutcome: Int]) -> String {
        "{"
            + counts.map { ($0.key.rawValue, $0.value) }.sorted { $0.0 < $1.0 }.map { "\"\($0.0)\":\($0.1)" }
            .joined(separator: ",") + "}"
    }
}

/// The stages of one `events` run, in order: discover (take the notes, derive the events, add the new ones to the
/// ledger) → send (every event of the ledger not yet delivered) → report.
struct EventStages {
    let context: JobContext
    let session: Session
    let options: EventsOptions
    var configuration: RunConfiguration { context.configuration }

    func run(stages: inout StageTimer, started: ContinuousClock.Instant) async -> RunResult {
        var failure: JobError?
        var report: EventsReport?
        var discovery = EventDiscovery.Summary()
        var pendingAfter: Int?
        do {
            let folder = try ReportFolder(root: configuration.reportsDirectory, runID: context.runKey)
            let opened = try EventsReport(folder: folder, dryRun: configuration.dryRun)
            report = opened
            let discovered = try EventDiscovery(context: context, session: session, options: options, report: opened)
                .run()
            discovery = discovered.summary
            stages.finish("discover")
            failure = await send(discovered.dryRunEvents, report: opened)
            stages.finish("send")
            if !configuration.dryRun { pendingAfter = try? EventLedger.unsentCount(on: session.writer) }
        } catch {
            failure = failure ?? JobError(classifying: error)
        }
        return finish(
            report, discovery: discovery, failure: failure, pendingAfter: pendingAfter, stages: &stages,
            started: started)
    }

    /// Sends the ledger's unsent events of this shard (a dry run lists them and the new ones instead).
    private func send(_ dryRunEvents: [UnsentEvent], report: EventsReport) async -> JobError? {
        let unsent: [UnsentEvent]
        do {
            unsent = try EventLedger.unsent(
                on: session.writer, shard: configuration.shard,
                freshSince: configuration.asOf.adding(seconds: -options.maxAgeHours * 3600))
        } catch {
            return JobError(classifying: error)
        }
        if configuration.dryRun {
            for event in unsent + dryRunEvents { report.recordDryRun(event) }
            return nil
        }
        guard !unsent.isEmpty else { return nil }
        let client = AttentiveClient(configuration: context.clientConfiguration())
        let sender = EventSender(
            client: client, report: report, writer: session.writer, runID: session.runID,
            stopSignal: context.stopSignal, concurrency: configuration.concurrency,
            progress: ProgressReporter(logger: context.logger, label: "events"),
            lockHeld: { [session] in (try? session.lock.query("SELECT 1")) != nil })
        return await sender.run(unsent)
    }

    private func finish(
        _ report: EventsReport?, discovery: EventDiscovery.Summary, failure: JobError?, pendingAfter: Int?,
        stages: inout StageTimer, started: ContinuousClock.Instant
    ) -> RunResult {
        let counts = report?.counts ?? [:]
        let failed = counts[.failed] ?? 0
        let status = failure?.status ?? (failed > 0 ? .needsAttention : .success)
        let message =
            failure?.description
            ?? (failed > 0
                ? "\(failed) events failed and stay pending: see events.csv; the next run sends them again" : "done")
        var published: String?
        if let report {
            do {
                try report.close()
                let summary = EventsSummary(
                    runKey: context.runKey, configuration: configuration, options: options, discovery: discovery,
                    counts: counts, pendingAfter: pendingAfter, stages: stages,
                    duration: ContinuousClock.now - started, status: status, message: message, store: session.store)
                published = try ReportStage.publish(
                    report.folder, summary: summary.markdown(), keep: configuration.keepReports)
                stages.finish("report")
            } catch {
                context.logger.error("could not write the reports", [("error", "\(error)")])
            }
        }
        context.logger.log(
            status == .success ? .info : .warning, "events finished",
            [("exit_status", status.description)]
                + EventOutcome.allCases.map { ($0.rawValue, String(counts[$0] ?? 0)) }
                + [
                    ("already_delivered", String(discovery.alreadyDelivered)), ("not_yet", String(discovery.notYet)),
                    ("reports", published ?? "none"),
                ])
        var result = RunResult(
            status: status, runKey: context.runKey, reportFolder: published, counts: RunCounts(), message: message)
        result.stageSeconds = stages.seconds
        result.pendingValues = pendingAfter
        result.eventCounts = counts
        return result
    }
}
