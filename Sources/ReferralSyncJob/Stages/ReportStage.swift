import Foundation
import ReferralModel
import Reports

/// Report: the exit status and message of a run, `summary.md`, the published report folder and the closing log
/// line.
struct ReportStage {
    let context: JobContext

    func report(
        _ outputs: SyncStages.Outputs?, outcome: SyncStages.Outcome, stages: inout StageTimer,
        started: ContinuousClock.Instant
    ) -> RunResult {
        let configuration = context.configuration
        let counts = outputs?.recorder.counts ?? RunCounts()
        let failed = counts[.failed]
        let status = outcome.failure?.status ?? (failed > 0 ? .needsAttention : .success)
        let message =
            outcome.failure?.description
            ?? (failed > 0
                ? "\(failed) values failed and stay pending: see changes.csv; the next run retries them" : "done")
        var published: String?
        if let outputs {
            do {
                try outputs.recorder.close()
                let summary = RunSummary(
                    runKey: context.runKey, configuration: configuration, refresh: outcome.refresh, counts: counts,
                    stages: stages, duration: ContinuousClock.now - started, status: status, message: message,
                    pending: outcome.pendingLine, store: outcome.store,
                    bulkSection: outcome.bulk.summarySection(mode: configuration.mode, dryRun: configuration.dryRun))
                published = try Self.publish(
                    outputs.folder, summary: summary.markdown(), keep: configuration.keepReports)
                stages.finish("report")
            } catch {
                context.logger.error("could not write the reports", [("error", "\(error)")])
            }
        }
        context.logger.log(
            status == .success ? .info : .warning, "run finished",
            [
                ("exit_status", status.description), ("participants", String(counts.participants)),
                ("changed_participants", String(counts.changedParticipants)), ("synced", String(counts[.synced])),
                ("failed", String(counts[.failed])), ("skipped", String(counts[.skipped])),
                ("dry_run", String(counts[.dryRun])), ("rejected_rows", String(counts.rejectedRows)),
                ("warnings", String(counts.warnings)),
                ("links_cleaned", String(counts.warningsByReason["link_cleaned"] ?? 0)),
                ("reports", published ?? "none"),
            ])
        var result = RunResult(
            status: status, runKey: context.runKey, reportFolder: published, counts: counts, message: message)
        result.stageSeconds = stages.seconds
        result.pendingValues = outcome.pendingCount
        result.refresh = outcome.refresh
        return result
    }

    /// Writes `summary.md`, publishes the folder atomically (`latest` moves to it) and prunes old folders.
    /// - Returns: The published folder's path.
    static func publish(_ folder: ReportFolder, summary: String, keep: Int) throws -> String {
        try writeTextFile(summary, to: folder.path("summary.md"))
        try folder.publish()
        if keep > 0 { folder.prune(keep: keep) }
        return folder.publishedPath
    }
}
