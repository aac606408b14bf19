import Attentive
import Foundation
import Postgres
import ReferralModel
import ReferralStore
import Reports

/// The nightly job, `referral-sync run`: inside a ``Session``, its stages in order:
/// refresh the kept recompute → read the participants → send what changed → record the outcomes → report.
/// `referral-sync drift` is the same session with other stages (``DriftCheck``).
public final class SyncRun: Sendable {
    let context: JobContext
    /// The run's id, which names its report folder: sortable by time.
    public var runKey: String { context.runKey }

    public init(configuration: RunConfiguration, logger: Logger, stopSignal: StopSignal = StopSignal()) {
        context = JobContext(configuration: configuration, logger: logger, stopSignal: stopSignal)
    }

    /// Runs the job. Never throws: every failure becomes an exit status and a message. The pipeline runs on a
    /// thread of its own (its database calls block); only the requests to Attentive run on Swift's shared pool.
    public func execute() async -> RunResult {
        let context = self.context
        return await PipelineThread.run {
            await Session.open(
                context, command: "run", dryRun: context.configuration.dryRun,
                metricsIfNotOpened: ReportStage.metricFamilies(RunCounts(), pending: nil)
            ) { session, stages in
                await SyncStages(context: context, session: session).run(stages: &stages)
            }
        }
    }

    /// `referral-sync drift`: compares what Attentive holds with the recomputed truth; sends nothing.
    public func checkDrift(_ options: DriftOptions) async -> RunResult {
        let context = self.context
        return await PipelineThread.run { await DriftCheck(context: context, options: options).execute() }
    }
}
