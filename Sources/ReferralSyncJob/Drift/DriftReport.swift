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
        if let first = findings.first, findings.contains(where: { !$0.kind.fixedByNextRun }) {
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
    var runKey: String
    var configuration: RunConfiguration
    var sample: Int?
    var repair: Bool
    var counts: DriftCounts
    var stages: StageTimer
    var status: ExitStatus
    var message: String
    /// The store (schema), named unless it is the default one.
    var store: String

    func markdown() -> String {
        var text = "# referral-sync drift check \(runKey)\n\n"
        text += "- Result: **exit \(status)**: \(message)\n"
        if store != StoreKeys.defaultStore { text += "- Store: \(store)\n" }
        text += "- As of: \(configuration.asOf.millisecondString)\n"
        text += "- Participants: " + (sample.map { "a sample of at most \($0)" } ?? "all")
        text += configuration.shard == .all ? "\n" : ", shard \(configuration.shard)\n"
        let seconds = stages.seconds.reduce(0) { $0 + $1.1 }
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

        text += "\n## Stages\n\n"
        text += MarkdownTable(
            header: ["Stage", "Seconds"],
            rows: stages.seconds.map { [$0.0, String(format: "%.3f", $0.1)] }, rightAligned: [1]
        ).render()
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
        }
    }
}
