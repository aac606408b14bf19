import Foundation
import ReferralModel
import ReferralStore
import Reports

/// `summary.md` of an `events` run.
struct EventsSummary {
    var runKey: String
    var configuration: RunConfiguration
    var options: EventsOptions
    var discovery: EventDiscovery.Summary
    var counts: [String: Int]
    var pendingAfter: Int?
    var stages: StageTimer
    var duration: Duration
    var status: ExitStatus
    var message: String
    var store: String

    func markdown() -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        let maxAge = EventsReport.hours(options.maxAgeHours)
        var text = "# referral-sync events \(runKey)\n\n"
        text += "- Result: **exit \(status)**: \(message)\n"
        if store != StoreKeys.defaultStore { text += "- Store: \(store)\n" }
        text += "- As of: \(configuration.asOf.millisecondString)\n"
        text += "- Mode: \(configuration.dryRun ? "dry run (nothing sent, nothing recorded)" : "send")"
        text += configuration.shard == .all ? "\n" : ", shard \(configuration.shard)\n"
        text += "- Age rule: events older than \(maxAge) hours at the as-of are "
        text += options.backfill ? "sent too (--backfill)\n" : "not sent (`too_old`)\n"
        let read =
            discovery.readEverything
            ? "the whole history (\(discovery.firstRun ? "first events run" : "--backfill"))"
            : "\(discovery.notedRows) rows noted since the last run"
        text += "- Read: \(read)\n"
        text += "- Time taken: \(String(format: "%.2f", seconds)) s\n"
        text += "- Events not yet delivered after this run: \(pendingAfter.map(String.init) ?? "unknown")\n"

        if discovery.firstRun && !options.backfill {
            let older = discovery.historyNotSent.values.reduce(0, +)
            text += "\n## First events run\n\n"
            text += "This is the first `events` run for this database: it sent only what happened in the last "
            text += "\(maxAge) hours before the as-of, which can still trigger a journey. The \(older) older events "
            text += "of the history were not sent and are not listed in events.csv; `referral-sync events --backfill` "
            text += "sends them, with their true times, for segments. "
            text += "\(discovery.historyUnsendable) older rows make no event (see a backfill's events.csv).\n\n"
            text += MarkdownTable(
                header: ["Event type", "Older events not sent"],
                rows: discovery.historyNotSent.sorted { $0.key < $1.key }.map { [$0.key, String($0.value)] },
                rightAligned: [1]
            ).render()
        }

        text += "\n## Events by outcome\n\n"
        var rows = EventCounts.outcomes.map { [$0, String(counts[$0] ?? 0)] }
        rows.append(["(new events found this run)", String(discovery.newEvents)])
        rows.append([
            "(rows changed after their event was delivered: not sent again)", String(discovery.alreadyDelivered),
        ])
        rows.append([
            "(rows whose event was already pending: sent with its first body)", String(discovery.alreadyPending),
        ])
        rows.append(["(events dated after the as-of: noted for later)", String(discovery.notYet)])
        text += MarkdownTable(header: ["Outcome", "Events"], rows: rows, rightAligned: [1]).render()

        text += "\n## Stages\n\n"
        text += MarkdownTable(
            header: ["Stage", "Seconds"],
            rows: stages.seconds.map { [$0.0, String(format: "%.3f", $0.1)] }, rightAligned: [1]
        ).render()
        return text
    }
}
