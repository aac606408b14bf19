import Foundation
import ReferralModel
import ReferralStore
import Reports

/// `summary.md` of an `events` run.
struct EventsSummary {
    /// How the run ended.
    var end: EndOfCommand
    var options: EventsOptions
    var discovery: EventDiscovery.Summary
    var counts: [EventOutcome: Int]
    var pendingAfter: Int?
    /// Refused events standing after the run (`refused.csv`), `nil` when they could not be listed.
    var refused: Int? = nil
    /// A follower's period (`events --follow`), `nil` for one run.
    var follower: FollowerPeriod? = nil
    var configuration: RunConfiguration { end.configuration }

    func markdown() -> String {
        let maxAge = EventsReport.hours(options.maxAgeHours)
        var text = end.heading("referral-sync events")
        text += "- As of: \(configuration.asOf.millisecondString)\n"
        if let follower {
            text += "- Mode: follower (`--follow`), this folder is one report period: from "
            text += "\(follower.started.millisecondString) to \(Timestamp.now().millisecondString), "
            text += "\(follower.wakeUps) passes after a notification and \(follower.sweeps) sweeps"
        } else {
            text += "- Mode: \(configuration.dryRun ? "dry run (nothing sent, nothing recorded)" : "send")"
        }
        text += configuration.shard == .all ? "\n" : ", shard \(configuration.shard)\n"
        text += "- Age rule: events older than \(maxAge) hours at the as-of are "
        text += options.backfill ? "sent too (--backfill)\n" : "not sent (`too_old`)\n"
        let read =
            options.backfill
            ? "the whole history (--backfill)"
            : discovery.firstRun
                ? "\(discovery.notedRows) rows of the last \(maxAge) hours (first events run)"
                : "\(discovery.notedRows) rows noted since the last run"
        text += "- Read: \(read)\n"
        text += "- Time taken: \(String(format: "%.2f", end.duration.seconds)) s\n"
        text += "- Events not yet delivered after this run: \(pendingAfter.map(String.init) ?? "unknown")\n"
        if let follower {
            let lag = follower.lag.oldest.map { String(format: "%.1f s", $0) } ?? "none waiting"
            text += "- Oldest event still to deliver at the end of the period, found: \(lag) ago\n"
        }
        text += "- Refused events (refused by Attentive for their content, not sent again: refused.csv): "
        text += "\(refused.map(String.init) ?? "unknown")\n"

        if discovery.firstRun && !options.backfill {
            let history = discovery.history ?? EventLedger.History()
            text += "\n## First events run\n\n"
            text += "This is the first `events` run for this store: it sent only what happened in the last "
            text += "\(maxAge) hours before the as-of, which can still trigger a journey. The older history was not "
            text += "read and not sent: the rows below, and \(discovery.olderNotSent) older events of newer rows. "
            text += "`referral-sync events --backfill` sends every event of the history not yet delivered, with "
            text += "its true time, for segments.\n\n"
            if history.later > 0 {
                text += "The \(history.later) rows dated after the as-of were noted for their time, not read: the "
                text += "first run whose as-of reaches a row sends its events.\n\n"
            }
            text += MarkdownTable(
                header: ["Rows dated before the last \(maxAge) hours", "Rows"],
                rows: history.rows.map { [$0.table, String($0.count)] }, rightAligned: [1]
            ).render()
        }

        text += "\n## Events by outcome\n\n"
        var rows = EventOutcome.allCases.map { [$0.rawValue, String(counts[$0] ?? 0)] }
        rows.append(["(new events found this run)", String(discovery.newEvents)])
        rows.append([
            "(events already delivered, of the rows read: not sent again)", String(discovery.alreadyDelivered),
        ])
        rows.append([
            "(rows whose event was already pending: sent with its first body)", String(discovery.alreadyPending),
        ])
        rows.append(["(events dated after the as-of: noted for later)", String(discovery.notYet)])
        rows.append([
            "(new events with bidirectional or control characters, removed before sending)",
            String(discovery.textCleaned),
        ])
        text += MarkdownTable(header: ["Outcome", "Events"], rows: rows, rightAligned: [1]).render()

        text += end.stagesSection
        return text
    }
}
