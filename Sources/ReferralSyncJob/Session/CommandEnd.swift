import Foundation
import ReferralModel
import ReferralStore
import Reports

/// The end of every command that opens a ``Session``, written once: the report folder closed, its summary written
/// and the folder published atomically (`latest` moves to it, old folders are pruned), the closing log line, the
/// run-history row closed, the metrics file written and the ``RunResult`` returned. A command only says how its
/// work ended (``CommandEnding``).
struct CommandEnd {
    let context: JobContext
    /// The command's name in the run history and the metrics' `command` label.
    let command: String
    let started: ContinuousClock.Instant

    /// Ends a command whose session opened.
    func end(_ ending: CommandEnding, session: Session, stages: inout StageTimer) -> RunResult {
        var ending = ending
        // A lost lock turns an otherwise finished run into 75; a status that says more (a signal, PostgreSQL gone
        // altogether: 69) stays.
        if let loss = context.stopSignal.lockLoss, [.success, .needsAttention].contains(ending.status) {
            let lost = JobError.lockLost(loss)
            (ending.status, ending.message) = (lost.status, lost.description)
        }
        let published = ending.report.flatMap { publish($0, ending: &ending, store: session.store, stages: &stages) }
        context.logger.log(
            ending.status == .success ? .info : .warning, ending.closingLine,
            ending.closingFields + [("reports", published ?? "none")])
        try? RunHistory.finish(
            on: session.writer, runID: session.runID, exitStatus: Int(ending.status.rawValue),
            outcomeCounts: ending.historyCounts.json, stageSeconds: stages.json, message: ending.message)
        writeMetrics(
            ending.status, stageSeconds: stages.seconds, participants: ending.counts.participants,
            families: ending.metricFamilies, store: session.store, heldByAnother: false)
        return RunResult(
            status: ending.status, runKey: context.runKey, reportFolder: published, counts: ending.counts,
            message: ending.message, pendingValues: ending.pending)
    }

    /// Ends a command whose session could not open (lock held, schema, currency, database): no report folder, no
    /// run-history row.
    /// - Parameter metricFamilies: The command's families with nothing counted.
    func notOpened(_ error: any Error, metricFamilies: [MetricFamily]) -> RunResult {
        let jobError = JobError(classifying: error)
        context.logger.error(jobError.message, [("exit_status", jobError.status.description)])
        writeMetrics(
            jobError.status, stageSeconds: [], participants: 0, families: metricFamilies,
            store: context.configuration.schema, heldByAnother: jobError.status == .locked)
        return RunResult(
            status: jobError.status, runKey: context.runKey, reportFolder: nil, counts: RunCounts(),
            message: jobError.description)
    }

    /// Closes the command's files, writes the summary and publishes the folder.
    /// - Returns: The published folder's path; `nil` when it could not be written.
    private func publish(
        _ report: CommandReport, ending: inout CommandEnding, store: String, stages: inout StageTimer
    ) -> String? {
        let configuration = context.configuration
        do {
            try report.close()
            let told = EndOfCommand(
                runKey: context.runKey, configuration: configuration, store: store, status: ending.status,
                message: ending.message, stages: stages, duration: ContinuousClock.now - started)
            try writeTextFile(try report.summary(told), to: report.folder.path(report.summaryFile))
            try report.folder.publish()
            if configuration.keepReports > 0 { report.folder.prune(keep: configuration.keepReports) }
            report.afterPublish?(&ending.historyCounts)
            stages.finish("report")
            return report.folder.publishedPath
        } catch {
            // Reports that cannot be written are a failure, never "done": a scheduler must hear of it (74) even when
            // everything was sent. A status that already says more (a signal, a lost lock, a refused key) stays,
            // and its message says the reports are missing too.
            let failure = JobError(classifying: error)
            context.logger.error("could not write the reports", [("error", "\(error)")])
            if report.isTheProduct || [.success, .needsAttention].contains(ending.status) {
                (ending.status, ending.message) = (failure.status, failure.description)
            } else {
                ending.message += "; and \(failure.message)"
            }
            return nil
        }
    }

    /// Writes `--metrics-file`, if set. Not when another run held the lock (exit 75 before the session opened):
    /// that run writes the file when it ends. A failure to write is logged and does not change the exit status
    /// (the stale timestamps are what an alert on the file notices).
    func writeMetrics(
        _ status: ExitStatus, stageSeconds: [(String, Double)], participants: Int, families: [MetricFamily],
        store: String?, heldByAnother: Bool
    ) {
        let configuration = context.configuration
        guard let path = configuration.metricsFile, !heldByAnother else { return }
        let file = MetricsFile(path: path, command: command, shard: configuration.shard, store: store)
        let ended = MetricsFile.Ended(
            status: status, stageSeconds: stageSeconds, participants: participants, families: families)
        do {
            try file.write(ended, finishedAt: Date().timeIntervalSince1970) { [command] in
                MetricsFile.lastSuccessInHistory(
                    conninfo: configuration.databaseURL, schema: configuration.schema, command: command)
            }
        } catch {
            context.logger.error("could not write the metrics file", [("path", path), ("error", "\(error)")])
        }
    }
}
