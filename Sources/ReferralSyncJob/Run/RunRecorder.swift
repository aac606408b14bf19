public import Foundation
public import ReferralModel
public import ReferralStore
import Reports

/// Counts of one run, for the summary, the run history and the exit status.
public struct RunCounts: Sendable, Equatable {
    public var participants = 0
    public var changedParticipants = 0
    /// Attribute values by outcome (`changes.csv` rows).
    public var outcomes: [SyncOutcome: Int] = [:]
    public var requestsSent = 0
    public var rejectedRows = 0
    public var rejectedByReason: [String: Int] = [:]
    public var rejectedByTable: [String: Int] = [:]
    /// Per input table: rows read, counted, not participants and rejected by reason (summary "Input rows").
    public var tableAccounts: [TableAccount] = []
    /// `warnings.csv`'s rows by warning code: participants that count and are sent, with an identity left out
    /// or a link changed or too long (summary "Warnings").
    public var warningsByReason: [String: Int] = [:]
    /// The participants with at least one warning: counted, and among the customers counted.
    public var participantsWithWarnings = 0
    /// The rows of `warnings.csv`.
    public var warnings: Int { warningsByReason.values.reduce(0, +) }
    public var totalSuccessfulReferrals = 0
    /// Sum of every participant's revenue attribute, exact.
    public var totalRevenue = Decimal(0)
    /// The shop currency the revenue is in.
    public var currency: Currency?

    public subscript(outcome: SyncOutcome) -> Int { outcomes[outcome] ?? 0 }
}

/// Writes each changed value of a run to `changes.csv` and, for values sent, the ledger (`attributes.csv` is
/// ``AttributesFilePass``'s), and counts the run.
/// Used by one task only: the run's main loop.
final class RunRecorder {
    private(set) var counts = RunCounts()
    private let changes: CSVWriter
    private let ledger: LedgerWriter?
    private let dryRunRequests: ReportFile?
    /// The first error writing the ledger; after it, accepted values are still reported but not recorded (the
    /// next run sends them again, harmlessly).
    private(set) var ledgerError: (any Error)?
    /// Rejected rows by table, then reason, for the per-table accounting.
    private var rejectedByTableAndReason: [String: [String: Int]] = [:]

    static let changesHeader = [
        "customer_id", "attribute", "previous_value", "new_value", "outcome", "http_status", "error", "attempts",
    ]

    init(folder: ReportFolder, ledger: LedgerWriter?, currency: Currency, dryRun: Bool) throws {
        changes = try CSVWriter(path: folder.path("changes.csv"), header: Self.changesHeader)
        dryRunRequests = dryRun ? try ReportFile(path: folder.path("dry_run_requests.jsonl")) : nil
        self.ledger = ledger
        counts.currency = currency
    }

    /// Counts a participant the attribute query streamed: one with a value that differs from the ledger.
    func countChanged(_ participant: ParticipantState) {
        if !participant.changedAttributes.isEmpty { counts.changedParticipants += 1 }
    }

    /// Takes the participants and totals `attributes.csv` added up (``AttributesFilePass``).
    func countParticipants(_ file: AttributesFileCounts) {
        counts.participants = file.participants
        counts.totalSuccessfulReferrals = file.totalSuccessfulReferrals
        counts.totalRevenue = file.totalRevenue
    }

    func recordOutcome(
        _ participant: ParticipantState, _ outcome: SyncOutcome, httpStatus: Int? = nil, error: String? = nil,
        attempts: Int = 0
    ) {
        let error = error.map(Self.printable)
        report(participant, outcome, httpStatus: httpStatus, error: error, attempts: attempts)
        switch outcome {
        case .synced:
            writeLedger { try $0.recordAccepted(participant) }
        case .failed, .skipped, .inFlight, .refused:
            for attribute in participant.changedAttributes {
                var pending = PendingValue(
                    customerID: participant.customerID, attribute: attribute, value: participant.values[attribute],
                    state: outcome.rawValue, httpStatus: httpStatus, error: error, attempts: attempts)
                if outcome == .refused { pending.sentTo = participant.identity }
                writeLedger { try $0.recordPending(pending) }
            }
        case .dryRun:
            break
        }
    }

    /// Writes every changed value of `participant` to `changes.csv` with one outcome, and counts it, without
    /// touching the database: for outcomes the database already holds (bulk records, values in flight).
    func report(
        _ participant: ParticipantState, _ outcome: SyncOutcome, httpStatus: Int? = nil, error: String? = nil,
        attempts: Int = 0
    ) {
        let error = error.map(Self.printable)
        for attribute in participant.changedAttributes {
            counts.outcomes[outcome, default: 0] += 1
            changes.write([
                participant.customerID, attribute.rawValue, participant.ledgerValues[attribute],
                participant.values[attribute] ?? "", outcome.rawValue, httpStatus.map(String.init), error,
                String(attempts),
            ])
        }
    }

    /// Writes the request a dry run would have sent.
    func recordDryRunRequest(_ body: String) {
        dryRunRequests?.write(body + "\n")
    }

    /// Adds the rejected input rows and the warnings found by the rejected-rows pass.
    func countRejected(_ rejected: RejectedRowCounts) {
        counts.rejectedRows += rejected.total
        counts.rejectedByReason.merge(rejected.byReason, uniquingKeysWith: +)
        counts.rejectedByTable.merge(rejected.byTable, uniquingKeysWith: +)
        rejectedByTableAndReason.merge(rejected.byTableAndReason) { $0.merging($1, uniquingKeysWith: +) }
        counts.warningsByReason.merge(rejected.warningsByReason, uniquingKeysWith: +)
        counts.participantsWithWarnings += rejected.participantsWithWarnings
    }

    /// Records each input table's rows read and counted, with the rejected rows counted so far.
    func recordAccounts(_ accounts: [TableAccount]) {
        counts.tableAccounts = accounts.map { account in
            var account = account
            account.rejectedByReason = rejectedByTableAndReason[account.table] ?? [:]
            return account
        }
    }

    /// `text` with control characters (a NUL from an API answer, say) replaced by U+FFFD, so it can go into a
    /// CSV cell and a PostgreSQL `text` column.
    static func printable(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return text }
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            scalars.append(scalar.properties.generalCategory == .control ? "\u{FFFD}" : scalar)
        }
        return String(scalars)
    }

    func countRequest() { counts.requestsSent += 1 }

    /// Writes what is queued for the ledger.
    func flushLedger() { writeLedger { try $0.flush() } }

    /// Closes the report files.
    func close() throws {
        try changes.close()
        try dryRunRequests?.close()
    }

    private func writeLedger(_ body: (LedgerWriter) throws -> Void) {
        guard let ledger, ledgerError == nil else { return }
        do { try body(ledger) } catch { ledgerError = error }
    }
}
