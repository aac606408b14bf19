import Foundation
import ReferralModel
import ReferralStore
import Reports

/// `events.csv` (one row per event considered: sent, failed, skipped with its reason, too old, or a dry run's) and
/// a dry run's `dry_run_requests.jsonl`, with the counts by outcome.
final class EventsReport {
    let folder: ReportFolder
    private let csv: CSVWriter
    private let dryRunRequests: ReportFile?
    private(set) var counts: [EventOutcome: Int] = [:]

    /// A public contract (reports/README.md): columns are added at the end, never renamed or reordered.
    static let header = [
        "event_id", "type", "role", "source_row", "user_email", "user_phone", "occurred_at", "outcome", "http_status",
        "error", "attempts", "warning",
    ]

    init(folder: ReportFolder, dryRun: Bool) throws {
        self.folder = folder
        csv = try CSVWriter(path: folder.path("events.csv"), header: Self.header)
        dryRunRequests = dryRun ? try ReportFile(path: folder.path("dry_run_requests.jsonl")) : nil
    }

    func recordSkipped(_ candidate: EventCandidate, id: String?, reason: String) {
        write(
            id: id, type: candidate.type, role: candidate.role, source: candidate.sourceRow, email: candidate.email,
            phone: candidate.phone, occurred: candidate.occurredAt, outcome: .skipped, error: reason)
    }

    func recordTooOld(_ candidate: EventCandidate, id: String?, maxAgeHours: Double) {
        write(
            id: id, type: candidate.type, role: candidate.role, source: candidate.sourceRow, email: candidate.email,
            phone: candidate.phone, occurred: candidate.occurredAt, outcome: .tooOld,
            error: "occurred more than \(Self.hours(maxAgeHours)) hours before the as-of: it would trigger no journey "
                + "(--backfill sends it)")
    }

    /// A dry run's event: listed, and `body` (as it would be sent) written to `dry_run_requests.jsonl`.
    func recordDryRun(_ event: UnsentEvent, body: String) {
        dryRunRequests?.write(body + "\n")
        record(event, outcome: .dryRun)
    }

    func record(
        _ event: UnsentEvent, outcome: EventOutcome, httpStatus: Int? = nil, error: String? = nil, attempts: Int = 0
    ) {
        write(
            id: event.id, type: event.type, role: event.role, source: event.sourceRow, email: event.email,
            phone: event.phone, occurred: event.occurredAt, outcome: outcome, httpStatus: httpStatus, error: error,
            attempts: attempts, warning: event.warning)
    }

    func close() throws {
        try csv.close()
        try dryRunRequests?.close()
    }

    private func write(
        id: String?, type: String, role: String, source: String, email: String?, phone: String?, occurred: String,
        outcome: EventOutcome, httpStatus: Int? = nil, error: String?, attempts: Int = 0, warning: String? = nil
    ) {
        counts[outcome, default: 0] += 1
        csv.write([
            id, type, role, source, email, phone, occurred, outcome.rawValue, httpStatus.map(String.init),
            error.map(RunRecorder.printable), String(attempts), warning.map(RunRecorder.printable),
        ])
    }

    static func hours(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
