import Foundation
import ReferralModel
import Reports

/// `summary.md`: what a run did, for whoever is on call the next morning and for finance.
struct RunSummary {
    var runKey: String
    var configuration: RunConfiguration
    var counts: RunCounts
    var stages: StageTimer
    var duration: Duration
    var status: ExitStatus
    var message: String
    var pending: String

    func markdown() -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        var text = "# referral-sync run \(runKey)\n\n"
        text += "- Result: **exit \(status)**: \(message)\n"
        text += "- As of: \(configuration.asOf.millisecondString)\n"
        text += "- Mode: \(configuration.dryRun ? "dry run (nothing sent)" : configuration.mode.rawValue)"
        text += configuration.shard == .all ? "\n" : ", shard \(configuration.shard)\n"
        text += "- Time taken: \(String(format: "%.2f", seconds)) s\n"
        text += "- Pending values (not yet accepted by Attentive): \(pending)\n\n"

        text += "## Participants\n\n"
        text += MarkdownTable(
            header: ["Measure", "Value"],
            rows: [
                ["Participants", String(counts.participants)],
                ["Participants with changes", String(counts.changedParticipants)],
                ["Requests sent", String(counts.requestsSent)],
                ["Successful referrals (all participants)", String(counts.totalSuccessfulReferrals)],
                [
                    "Successful referral revenue (all participants)",
                    counts.currency.map { "\($0.format(counts.totalRevenue)) \($0.code)" } ?? "\(counts.totalRevenue)",
                ],
            ], rightAligned: [1]
        ).render()

        text += "\n## Changed values by outcome\n\n"
        text += MarkdownTable(
            header: ["Outcome", "Values"],
            rows: SyncOutcome.allCases.map { [$0.rawValue, String(counts[$0])] }, rightAligned: [1]
        ).render()

        text += "\n## Rejected input rows\n\n"
        if counts.rejectedByReason.isEmpty {
            text += "None.\n"
        } else {
            text += MarkdownTable(
                header: ["Reason", "Rows"],
                rows: counts.rejectedByReason.sorted { $0.key < $1.key }.map { [$0.key, String($0.value)] },
                rightAligned: [1]
            ).render()
        }

        text += "\n## Stages\n\n"
        text += MarkdownTable(
            header: ["Stage", "Seconds"],
            rows: stages.seconds.map { [$0.0, String(format: "%.3f", $0.1)] }, rightAligned: [1]
        ).render()
        text += "\nFiles: `attributes.csv`, `changes.csv`, `rejected_rows.csv`"
        text += configuration.dryRun ? ", `dry_run_requests.jsonl`" : ""
        text += " (see reports/README.md).\n"
        return text
    }
}
