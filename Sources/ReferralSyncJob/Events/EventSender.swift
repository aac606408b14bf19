import Attentive
import Postgres
import ReferralModel
import ReferralStore

/// Send: every event of the ledger not yet delivered, oldest first, at most `--concurrency` in flight
/// (``BoundedSender``), paced and retried by the client like attribute values. Each chunk is marked `in_flight` before its requests start, and
/// each answer is written at once: `delivered` (2xx, never sent again) or `failed` (sent again by the next run,
/// with the same body). No request is ever cancelled: a stop only keeps new ones from starting.
final class EventSender {
    private let client: AttentiveClient
    private let report: EventsReport
    private let writer: PostgresConnection
    private let runID: Int64
    private let progress: ProgressReporter
    /// Whether the run still holds the events lock: its connection answers. A lock connection dropped by the
    /// network frees the lock, and another run could then send the same events: no new request starts after it.
    private let lockHeld: () -> Bool
    private let sender: BoundedSender
    private let tracker: DeliveryTracker
    /// The first failure to write the ledger: no request starts after it (its answer could not be recorded).
    private var ledgerError: JobError?
    private var done = 0

    init(
        client: AttentiveClient, report: EventsReport, writer: PostgresConnection, runID: Int64,
        stopSignal: StopSignal, concurrency: Int, progress: ProgressReporter, lockHeld: @escaping () -> Bool
    ) {
        self.lockHeld = lockHeld
        self.client = client
        self.report = report
        self.writer = writer
        self.runID = runID
        sender = BoundedSender(concurrency: concurrency, stopSignal: stopSignal, shutsDown: client)
        tracker = DeliveryTracker(client: client, stopSignal: stopSignal)
        self.progress = progress
    }

    /// Events marked in flight with one statement.
    static let chunkSize = 64

    /// Sends `events`.
    /// - Returns: Why the run stopped early, if it did.
    func run(_ events: [UnsentEvent]) async -> JobError? {
        let client = self.client
        await sender.run(of: (UnsentEvent, DeliveryOutcome).self) { start in
            var first = 0
            while first < events.count {
                let chunk = Array(events[first..<min(first + Self.chunkSize, events.count)])
                first += chunk.count
                if ledgerError == nil, !lockHeld() {
                    ledgerError = JobError(
                        .unavailable, "the connection holding the events lock was lost",
                        remedy: "Unsent events stay pending; the next run sends them.")
                }
                if let reason = notSendingReason {
                    chunk.forEach { recordNotSent($0, reason: reason) }
                    continue
                }
                do {
                    try EventLedger.markInFlight(chunk.map(\.key), runID: runID, on: writer)
                } catch {
                    ledgerError = JobError(classifying: error)
                    chunk.forEach {
                        report.record($0, outcome: .failed, error: "not sent: the ledger cannot be written")
                    }
                    continue
                }
                for event in chunk {
                    if let reason = notSendingReason {
                        recordNotSent(event, reason: reason)
                        continue
                    }
                    await start { { (event, await client.sendCustomEvent(body: event.body)) } }
                }
            }
        } settle: {
            handle($0.0, $0.1)
        }
        progress.finish(done, "events sent")
        return tracker.verdict(otherwise: ledgerError)
    }

    private var notSendingReason: String? {
        tracker.notSendingReason(cannotRecord: ledgerError != nil)
    }

    private func handle(_ event: UnsentEvent, _ outcome: DeliveryOutcome) {
        let answer = tracker.note(outcome)
        done += 1
        progress.tick(done, "events sent")
        do {
            try EventLedger.recordOutcome(
                key: event.key, delivered: answer.accepted, refused: answer.refused, httpStatus: answer.httpStatus,
                error: answer.error, attempts: answer.attempts, runID: runID, on: writer)
        } catch {
            // Attentive's answer is reported; the ledger keeps the event in flight, so the next run sends it again
            // (with the same id and body).
            ledgerError = ledgerError ?? JobError(classifying: error)
        }
        report.record(
            event, outcome: answer.accepted ? .delivered : answer.refused ? .refused : .failed,
            httpStatus: answer.httpStatus,
            error: answer.error, attempts: answer.attempts)
    }

    /// An event no request was started for: failed for this run, sent by the next.
    private func recordNotSent(_ event: UnsentEvent, reason: String) {
        let error = "not sent: \(reason)"
        try? EventLedger.recordOutcome(
            key: event.key, delivered: false, httpStatus: nil, error: error, attempts: 0, runID: runID, on: writer)
        report.record(event, outcome: .failed, error: error)
    }
}
