import Foundation
import ReferralModel
import ReferralStore
import Reports

/// How a command's work ended, in the command's own terms: what it hands its ``Session``, which ends every command
/// the same way, once (``CommandEnd``): the report folder closed and published, the closing log line, the
/// run-history row closed, the metrics file written, the ``RunResult`` returned.
struct CommandEnding {
    /// The exit status as the work left it (a report that is the command's product and cannot be written changes
    /// it: ``CommandReport/isTheProduct``).
    var status: ExitStatus
    /// One line for the user: what happened, and what to do if anything.
    var message: String
    /// The report folder the command filled, when it opened one.
    var report: CommandReport?
    /// The closing log line's words (`run finished`) and fields; the end adds `reports`, the published folder.
    var closingLine: String
    var closingFields: [(String, String)]
    /// What the command counted: the participants it read (every command), the attribute values (`run`).
    var counts = RunCounts()
    /// What is still pending after the command (attribute values or events), when it was counted.
    var pending: Int? = nil
    /// The command's own metric families; the metrics file adds the ones every command writes.
    var metricFamilies: [MetricFamily] = []
    /// What the run history keeps in `outcome_counts`.
    var historyCounts = HistoryCounts()
}

/// A command's report folder and how it is finished before it is published.
struct CommandReport {
    let folder: ReportFolder
    /// The file the summary is written to.
    var summaryFile = "summary.md"
    /// Closes the command's own files and writes those that wait for the end.
    var close: () throws -> Void
    /// The summary, told how the command ended.
    var summary: (EndOfCommand) throws -> String
    /// Whether the report is what the command is for (`revenue`): a report that cannot be written then fails the
    /// command. Otherwise it is logged and the exit status stays the one the work earned.
    var isTheProduct = false
    /// Bookkeeping once the folder is published (`revenue` keeps its periods for the next report's restatements);
    /// it may add to the history counts and never fails the command.
    var afterPublish: ((inout HistoryCounts) -> Void)? = nil
}

/// What a summary says of how its command ended.
struct EndOfCommand {
    var runKey: String
    var configuration: RunConfiguration
    /// The store (schema) the command worked in, named in a summary unless it is the default one.
    var store: String
    var status: ExitStatus
    var message: String
    /// The stages so far (the report's own stage ends once it is published).
    var stages: StageTimer
    /// Since the session opened.
    var duration: Duration

    /// A summary's title, its result line and, unless the default one, its store line.
    func heading(_ title: String) -> String {
        var text = "# \(title) \(runKey)\n\n"
        text += "- Result: **exit \(status)**: \(message)\n"
        if store != StoreKeys.defaultStore { text += "- Store: \(store)\n" }
        return text
    }

    /// The "Stages" section: seconds per stage, in order.
    var stagesSection: String {
        "\n## Stages\n\n"
            + MarkdownTable(
                header: ["Stage", "Seconds"],
                rows: stages.seconds.map { [$0.0, String(format: "%.3f", $0.1)] }, rightAligned: [1]
            ).render()
    }
}

/// What a command keeps in the run history's `outcome_counts` (a `jsonb` object: keys in any order, one value
/// each). Values are counts, flags and codes, never customer text.
struct HistoryCounts {
    private var fields: [(String, String)] = []

    /// The object, as `jsonb` reads it.
    var json: String { "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}" }

    mutating func set(_ key: String, _ value: Int) { set(key, literal: String(value)) }
    mutating func set(_ key: String, _ value: Bool) { set(key, literal: String(value)) }
    mutating func set(_ key: String, text: String) {
        set(
            key,
            literal: "\""
                + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"")
    }

    private mutating func set(_ key: String, literal: String) {
        if let index = fields.firstIndex(where: { $0.0 == key }) {
            fields[index].1 = literal
        } else {
            fields.append((key, literal))
        }
    }
}
