import Foundation
import ReferralModel
import ReferralStore
import Reports

/// Report: how a `run` ended, in its own terms: the exit status and message, `summary.md`, the closing log line's
/// counts, the metric families and the run-history counts. The session publishes it (``CommandEnd``).
struct ReportStage {
    let context: JobContext

    func ending(_ outputs: SyncStages.Outputs?, outcome: SyncStages.Outcome) -> CommandEnding {
        let configuration = context.configuration
        let counts = outputs?.recorder.counts ?? RunCounts()
        let failed = counts[.failed]
        let refused = counts[.refused]
        // A new refusal needs someone to look once; the runs after it send nothing for it and end quiet.
        let status = outcome.failure?.status ?? (failed + refused > 0 ? .needsAttention : .success)
        let message =
            outcome.failure?.description
            ?? (failed > 0
                ? "\(failed) values failed and stay pending: see changes.csv; the next run retries them"
                : refused > 0
                    ? "\(refused) values refused by Attentive for their content: see refused.csv; they are not "
                        + "sent again while unchanged (--retry-refused sends them)" : "done")
        let report = outputs.map { outputs in
            CommandReport(
                folder: outputs.folder, close: { try outputs.recorder.close() },
                summary: { end in
                    RunSummary(
                        end: end, refresh: outcome.refresh, counts: counts, pending: outcome.pendingLine,
                        refused: outcome.refusedStanding,
                        bulkSection: outcome.bulk.summarySection(mode: configuration.mode, dryRun: configuration.dryRun)
                    ).markdown()
                })
        }
        return CommandEnding(
            status: status, message: message, report: report, closingLine: "run finished",
            closingFields: [
                ("exit_status", status.description), ("participants", String(counts.participants)),
                ("changed_participants", String(counts.changedParticipants)), ("synced", String(counts[.synced])),
                ("failed", String(counts[.failed])), ("refused", String(counts[.refused])),
                ("skipped", String(counts[.skipped])),
                ("dry_run", String(counts[.dryRun])), ("rejected_rows", String(counts.rejectedRows)),
                ("warnings", String(counts.warnings)),
                ("links_cleaned", String(counts.warningsByReason["link_cleaned"] ?? 0)),
            ],
            counts: counts, pending: outcome.pendingCount,
            metricFamilies: Self.metricFamilies(counts, pending: outcome.pendingCount)
                + [
                    RefusedListing.metricFamily(
                        name: "referral_sync_refused_rows", of: "Attribute values",
                        standing: outcome.refusedStanding)
                ],
            historyCounts: Self.historyCounts(counts, refresh: outcome.refresh))
    }

    /// The run's own metric families: values by outcome (a counter and the last run's), warnings, pending values.
    static func metricFamilies(_ counts: RunCounts, pending: Int?) -> [MetricFamily] {
        [
            MetricFamily(
                name: "referral_sync_rows_total", kind: .counter,
                help: "Changed attribute values by outcome, summed over the runs that wrote this file.",
                samples: SyncOutcome.allCases.map { ([("outcome", $0.rawValue)], Double(counts[$0])) }),
            MetricFamily(
                name: "referral_sync_last_run_rows", kind: .gauge,
                help: "Changed attribute values of the last run by outcome.",
                samples: SyncOutcome.allCases.map { ([("outcome", $0.rawValue)], Double(counts[$0])) }),
            MetricFamily(
                name: "referral_sync_last_run_warnings", kind: .gauge,
                help: "Participants of the last run with each warning of warnings.csv, by its code.",
                samples: OutboundWarning.all.map {
                    ([("reason", $0.code)], Double(counts.warningsByReason[$0.code] ?? 0))
                }),
            // No sample (so no series) when the pending ones could not be counted.
            MetricFamily(
                name: "referral_sync_pending_rows", kind: .gauge,
                help: "Attribute values not yet accepted by Attentive and still tried after the last run "
                    + "(refused ones are not counted: referral_sync_refused_rows).",
                samples: pending.map { [([], Double($0))] } ?? []),
        ]
    }

    /// The counts kept in the run history's `outcome_counts`.
    static func historyCounts(_ counts: RunCounts, refresh: StateRefresh?) -> HistoryCounts {
        var history = HistoryCounts()
        history.set("participants", counts.participants)
        history.set("changed_participants", counts.changedParticipants)
        history.set("requests", counts.requestsSent)
        history.set("rejected_rows", counts.rejectedRows)
        if let refresh {
            history.set("recompute", text: refresh.mode.rawValue)
            history.set("recomputed_customers", refresh.recomputed)
        }
        for outcome in SyncOutcome.allCases { history.set(outcome.rawValue, counts[outcome]) }
        return history
    }
}
