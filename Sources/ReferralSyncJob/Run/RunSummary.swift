import Foundation
import ReferralModel
import ReferralStore
import Reports

/// `summary.md`: what a run did, for whoever is on call the next morning and for finance.
struct RunSummary {
    /// How the run ended.
    var end: EndOfCommand
    /// How the recompute was brought up to date; `nil` when it could not be.
    var refresh: StateRefresh?
    var counts: RunCounts
    var pending: String
    /// Refusals standing after the run (`refused.csv`), `nil` when they could not be listed.
    var refused: Int? = nil
    /// The "Bulk jobs" section, when the run submitted or collected any.
    var bulkSection: String? = nil
    var configuration: RunConfiguration { end.configuration }

    func markdown() -> String {
        var text = end.heading("referral-sync run")
        text += "- As of: \(configuration.asOf.millisecondString)\n"
        text += "- Mode: \(configuration.dryRun ? "dry run (nothing sent)" : configuration.mode.rawValue)"
        text += configuration.shard == .all ? "\n" : ", shard \(configuration.shard)\n"
        text += "- Recompute: \(refresh?.description ?? "not brought up to date (see the result above)")\n"
        text += "- Time taken: \(String(format: "%.2f", end.duration.seconds)) s\n"
        text += "- Pending values (not yet accepted by Attentive): \(pending)\n"
        text += "- Refused values (refused by Attentive for their content, not sent again while unchanged: "
        text += "refused.csv): \(refused.map(String.init) ?? "unknown")\n\n"

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

        text += inputRows()
        text += warnings()

        if let bulkSection { text += "\n## Bulk jobs\n\n" + bulkSection }

        text += end.stagesSection
        text += "\nFiles: `attributes.csv`, `changes.csv`, `rejected_rows.csv`, `warnings.csv`"
        text += configuration.dryRun ? ", `dry_run_requests.jsonl`" : ""
        text += " (see reports/README.md).\n"
        return text
    }

    /// "Input rows": per table, read = counted + not participants + rejected; then the rejected rows by reason.
    func inputRows() -> String {
        var text = "\n## Input rows\n\n"
        text += "Every row read either counts, is a customer who is not a participant (not an error), or is listed in "
        text += "`rejected_rows.csv` with a reason (see reports/README.md).\n\n"
        let accounts = counts.tableAccounts
        text += MarkdownTable(
            header: ["Table", "Read", "Counted", "Not participants", "Rejected"],
            rows: accounts.map { account in
                [
                    account.table, String(account.read), String(account.counted),
                    account.table == "customers" ? String(account.notParticipants) : "",
                    String(account.rejected),
                ]
            }, rightAligned: [1, 2, 3, 4]
        ).render()
        if let customers = accounts.first(where: { $0.table == "customers" }) {
            text +=
                "\nOf the \(customers.counted) customers counted, \(counts.participantsWithWarnings) have a warning "
            text += "(listed in `warnings.csv`, see \"Warnings\" below).\n"
        }
        for account in accounts where account.unaccounted != 0 {
            text += "\n**\(account.table): \(account.unaccounted) rows are unaccounted for.** "
            text += "This is a defect of referral-sync: please report it with this folder.\n"
        }
        text += "\n### Rejected rows by reason\n\n"
        let reasons = accounts.flatMap { account in
            account.rejectedByReason.sorted { $0.key < $1.key }.map { [account.table, $0.key, String($0.value)] }
        }
        if reasons.isEmpty {
            text += "None.\n"
        } else {
            text += MarkdownTable(header: ["Table", "Reason", "Rows"], rows: reasons, rightAligned: [2]).render()
        }
        return text
    }

    /// "Warnings": the participants that count and are sent with something left out or changed on the way out,
    /// by warning (`warnings.csv`), every code listed, zeros included.
    func warnings() -> String {
        var text = "\n## Warnings\n\n"
        text += "Participants that count and are sent, with an identity left out or a link changed or too long on "
        text += "the way out: each is listed in `warnings.csv` with the reason in words (see reports/README.md).\n\n"
        text += MarkdownTable(
            header: ["Warning", "Code", "Participants"],
            rows: OutboundWarning.all.map { warning in
                [warning.summary, "`\(warning.code)`", String(counts.warningsByReason[warning.code] ?? 0)]
            }, rightAligned: [2]
        ).render()
        return text
    }
}
