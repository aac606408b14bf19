import Foundation
import ReferralModel
import ReferralStore
import Reports

/// Counts of one drift check.
struct DriftCounts: Sendable, Equatable {
    /// Participants the query returned (the sample, or everyone).
    var participants = 0
    /// Participants whose attributes were read from Attentive and compared.
    var checked = 0
    /// Participants not compared, by reason (no usable identity, Attentive error).
    var unchecked = 0
    /// Participants not compared because a request failed (as opposed to having no identity).
    var requestErrors = 0
    /// Drifted attribute values by kind.
    var findings: [DriftKind: Int] = [:]
    /// Participants whose ledger entry `--repair` forgot.
    var repaired = 0

    var driftRows: Int { findings.values.reduce(0, +) }
    subscript(kind: DriftKind) -> Int { findings[kind] ?? 0 }
}

/// Writes `drift.csv` and `unchecked.csv` of a drift check. Used by one task only.
final class DriftRecorder {
    private(set) var counts = DriftCounts()
    /// Participants with a drift the next run does not correct by itself.
    private(set) var customersToRepair: [String] = []
    private let drift: CSVWriter
    private let unchecked: CSVWriter

    static let driftHeader = ["customer_id", "attribute", "attentive_value", "expected_value", "ledger_value", "kind"]
    static let uncheckedHeader = ["customer_id", "reason"]

    init(folder: ReportFolder) throws {
        drift = try CSVWriter(path: folder.path("drift.csv"), header: Self.driftHeader)
        unchecked = try CSVWriter(path: folder.path("unchecked.csv"), header: Self.uncheckedHeader)
    }

    func countParticipant() { counts.participants += 1 }

    /// Records a participant compared with Attentive, and its drifted values.
    func recordChecked(_ findings: [DriftFinding]) {
        counts.checked += 1
        for finding in findings {
            counts.findings[finding.kind, default: 0] += 1
            drift.write([
                finding.customerID, finding.attribute.rawValue, finding.attentiveValue, finding.expectedValue,
                finding.ledgerValue, finding.kind.rawValue,
            ])
        }
        if let first = findings.first, findings.contains(where: { $0.kind.repairedByForgetting }) {
            customersToRepair.append(first.customerID)
        }
    }

    /// Records a participant that could not be compared.
    func recordUnchecked(_ customerID: String, reason: String, requestFailed: Bool) {
        counts.unchecked += 1
        if requestFailed { counts.requestErrors += 1 }
        unchecked.write([customerID, reason])
    }

    func recordRepaired(_ count: Int) { counts.repaired = count }

    func close() throws {
        try drift.close()
        try unchecked.close()
    }
}

/// `summary.md` of a drift check.
struct DriftSummary {
    /// How the check ended.
    var end: EndOfCommand
    var sample: Int?
    var repair: Bool
    var counts: DriftCounts
    var configuration: RunConfiguration { end.configuration }

    func markdown() -> String {
        var text = end.heading("referral-sync drift check")
        text += "- As of: \(configuration.asOf.millisecondString)\n"
        text += "- Participants: " + (sample.map { "a sample of at most \($0)" } ?? "all")
        text += configuration.shard == .all ? "\n" : ", shard \(configuration.shard)\n"
        let seconds = end.stages.seconds.reduce(0) { $0 + $1.1 }
        text += "- Time taken: \(String(format: "%.2f", seconds)) s\n\n"

        text += "## Participants\n\n"
        text += MarkdownTable(
            header: ["Measure", "Value"],
            rows: [
                ["Participants selected", String(counts.participants)],
                ["Compared with Attentive", String(counts.checked)],
                ["Not compared (see unchecked.csv)", String(counts.unchecked)],
                ["Ledger entries forgotten by --repair", String(counts.repaired)],
            ], rightAligned: [1]
        ).render()

        text += "\n## Drifted values by kind\n\n"
        text += MarkdownTable(
            header: ["Kind", "Values", "What to do"],
            rows: DriftKind.allCases.map { [$0.rawValue, String(counts[$0]), Self.remedy($0, repair: repair)] },
            rightAligned: [1]
        ).render()

        text += end.stagesSection
        text += "\nFiles: `drift.csv`, `unchecked.csv` (see reports/README.md).\n"
        return text
    }

    static func remedy(_ kind: DriftKind, repair: Bool) -> String {
        switch kind {
        case .pending:
            return "nothing: the next run sends the expected value"
        case .changedInAttentive, .missingInAttentive:
            return repair
                ? "forgotten in the ledger: the next run sends every value of these participants again"
                : "run `referral-sync drift --repair`, then `referral-sync run`, to send them again"
        case .refused:
            return "Attentive refused them for their content (refused.csv): fix the data, or fix it on "
                + "Attentive's side and `referral-sync run --retry-refused`"
        }
    }
}

extension DriftCounts {
    /// How a drift check ended, in its own terms (the session publishes `summary.md` and ends it).
    func ending(failure: JobError?) -> CommandEnding {
        let status: ExitStatus
        let message: String
        if let failure {
            (status, message) = (failure.status, failure.description)
        } else if driftRows > self[.refused] || requestErrors > 0 {
            status = .needsAttention
            var parts: [String] = []
            if driftRows > 0 { parts.append("\(driftRows) values differ in Attentive (see drift.csv)") }
            if requestErrors > 0 {
                parts.append("\(requestErrors) participants could not be read from Attentive (see unchecked.csv)")
            }
            message = parts.joined(separator: "; ") + ": summary.md says what to do for each kind"
        } else {
            (status, message) = (.success, "no drift: Attentive holds every expected value")
        }
        var runCounts = RunCounts()
        runCounts.participants = participants
        var history = HistoryCounts()
        history.set("participants", participants)
        history.set("checked", checked)
        history.set("unchecked", unchecked)
        history.set("drift_rows", driftRows)
        history.set("repaired", repaired)
        for kind in DriftKind.allCases { history.set(kind.rawValue, self[kind]) }
        return CommandEnding(
            status: status, message: message, closingLine: "drift check finished",
            closingFields: [
                ("exit_status", status.description), ("participants", String(participants)),
                ("checked", String(checked)), ("drift_rows", String(driftRows)), ("unchecked", String(unchecked)),
            ],
            counts: runCounts,
            metricFamilies: [
                MetricFamily(
                    name: "referral_sync_drift_rows", kind: .gauge,
                    help: "Attribute values the last drift check found different in Attentive.",
                    samples: [([], Double(driftRows))])
            ],
            historyCounts: history)
    }
}
