import Attentive
import Postgres
import ReferralModel
import ReferralStore

/// Send: the chunks of unsent events it is given (``UnsentEvents``: fresh first, then history), one after the other,
/// at most `--concurrency` in flight (``BoundedSender``), paced and retried by the client like attribute values.
/// Each batch is marked `in_flight` before its requests start, and each answer is written at once: `delivered`
/// (2xx, never sent again) or `failed` (sent again by the next run, with the same body). No request is ever
/// cancelled: a stop only keeps new ones from starting, and no chunk is read after it (the events not read stay
/// pending, for the next run).
///
/// Each body is sent with its type under the merchant's name (``EventTypeNames``). A 403 is checked against the
/// key once (``EventTypeOwnership``): a type Attentive refuses although the key works is recorded `type_not_owned`
/// (failed, sent again by the next run) and no more of its events are sent this run.
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
    private let names: EventTypeNames
    private let ownership: EventTypeOwnership
    private let logger: Logger
    /// The types Attentive refused although the key works (``EventTypeOwnership``).
    private(set) var refusedTypes = EventTypeOwnership.Refused()
    /// Types found not owned before this sender started (an earlier pass of a follower's period): not asked again.
    private let notOwned: Set<String>
    /// The first failure to write the ledger: no request starts after it (its answer could not be recorded).
    private var ledgerError: JobError?
    private var done = 0

    init(
        client: AttentiveClient, report: EventsReport, writer: PostgresConnection, runID: Int64,
        stopSignal: StopSignal, concurrency: Int, progress: ProgressReporter, names: EventTypeNames, logger: Logger,
        notOwned: Set<String> = [], lockHeld: @escaping () -> Bool
    ) {
        self.notOwned = notOwned
        self.lockHeld = lockHeld
        self.client = client
        self.report = report
        self.writer = writer
        self.runID = runID
        sender = BoundedSender(concurrency: concurrency, stopSignal: stopSignal, shutsDown: client)
        tracker = DeliveryTracker(client: client, stopSignal: stopSignal)
        ownership = EventTypeOwnership(client: client)
        self.names = names
        self.logger = logger
        self.progress = progress
    }

    /// Events marked in flight with one statement.
    static let batchSize = 64

    /// Sends the chunks `nextChunk` returns until it returns none, or the sending must stop.
    /// - Parameter nextChunk: The next events to send; empty when none is left. It runs between chunks, on the
    ///   caller's task, while requests may be in flight (their answers are settled only when a request starts or
    ///   at the end), so it may use the run's connections.
    /// - Returns: Why the run stopped early, if it did.
    func run(_ nextChunk: () throws -> [UnsentEvent]) async -> JobError? {
        await sender.run(of: Answer.self) { start in
            while notSendingReason == nil {
                let chunk: [UnsentEvent]
                do {
                    chunk = try nextChunk()
                } catch {
                    ledgerError = JobError(classifying: error)
                    break
                }
                if chunk.isEmpty { break }
                await send(chunk, start: start)
            }
        } settle: {
            handle($0.0, $0.1, keyAnswer: $0.2)
        }
        progress.finish(done, "events sent")
        return tracker.verdict(otherwise: ledgerError)
    }

    /// An event, Attentive's answer, and the key's answer when the event's refusal needed that check.
    private typealias Answer = (UnsentEvent, DeliveryOutcome, DeliveryOutcome?)

    /// Sends one chunk, a batch marked in flight at a time; once the sending must stop, the rest of the chunk is
    /// listed as not sent.
    private func send(_ events: [UnsentEvent], start: BoundedSender.Start<Answer>) async {
        let client = self.client
        let ownership = self.ownership
        var first = 0
        while first < events.count {
            let batch = Array(events[first..<min(first + Self.batchSize, events.count)])
            first += batch.count
            if ledgerError == nil, !lockHeld() {
                ledgerError = JobError(
                    .unavailable, "the connection holding the events lock was lost",
                    remedy: "Unsent events stay pending; the next run sends them.")
            }
            if let reason = notSendingReason {
                batch.forEach { recordNotSent($0, reason: reason) }
                continue
            }
            do {
                try EventLedger.markInFlight(batch.map(\.key), runID: runID, on: writer)
            } catch {
                ledgerError = JobError(classifying: error)
                batch.forEach {
                    report.record($0, outcome: .failed, error: "not sent: the ledger cannot be written")
                }
                continue
            }
            for event in batch {
                await start {
                    // Checked after the wait for a free slot: the answers settled meanwhile may have refused
                    // the key or this event's type.
                    if let reason = notSendingReason {
                        recordNotSent(event, reason: reason)
                        return nil
                    }
                    let sentName = names.sentName(of: event.type)
                    if notOwned.contains(event.type) {
                        _ = refusedTypes.add(event.type, sentAs: sentName)
                        recordTypeNotOwned(event, error: EventTypeOwnership.notSent(sentAs: sentName))
                        return nil
                    }
                    if refusedTypes.contains(event.type) {
                        recordTypeNotOwned(event, error: EventTypeOwnership.notSent(sentAs: sentName))
                        return nil
                    }
                    guard let body = names.body(of: event) else {
                        recordNotSent(event, reason: "its frozen body does not start with its type '\(event.type)'")
                        return nil
                    }
                    return {
                        let outcome = await client.sendCustomEvent(body: body)
                        guard EventTypeOwnership.needsKeyCheck(outcome) else { return (event, outcome, nil) }
                        return (event, outcome, await ownership.keyAnswer())
                    }
                }
            }
        }
    }

    private var notSendingReason: String? {
        tracker.notSendingReason(cannotRecord: ledgerError != nil)
    }

    private func handle(_ event: UnsentEvent, _ outcome: DeliveryOutcome, keyAnswer: DeliveryOutcome?) {
        done += 1
        progress.tick(done, "events sent")
        var answer: DeliveryTracker.Answer
        switch (outcome, keyAnswer) {
        case (.rejected(let status, let message, let attempts), .accepted?):
            // The key works: the refusal is the type's.
            let sentName = names.sentName(of: event.type)
            if refusedTypes.add(event.type, sentAs: sentName) {
                logger.warning(
                    "Attentive refuses an event type from this key's app although the key works (GET /v1/me "
                        + "answered 200): another app created it",
                    [
                        ("type", sentName), ("okendo_type", event.type), ("http_status", String(status)),
                        ("answer", message), ("remedy", "map it with --event-type-names, or send it from that app"),
                    ])
            }
            recordTypeNotOwned(
                event, httpStatus: status, error: EventTypeOwnership.refusal(sentAs: sentName, answer: message),
                attempts: attempts)
            return
        case (.rejected(let status, let message, _), .unauthorized(let keyStatus, let keyMessage)?):
            // The key itself is refused: the run ends 77, as for any refused key.
            tracker.noteRefusedKey("Attentive answered \(keyStatus) to GET /v1/me: \(keyMessage)")
            answer = tracker.note(.unauthorized(status: status, message: message))
        case (.rejected, let check?):
            answer = tracker.note(outcome)
            answer.error =
                (answer.error ?? "") + "; whether the key or the event type is refused could not be checked: "
                + EventTypeOwnership.words(ofKeyAnswer: check)
        default:
            answer = tracker.note(outcome)
        }
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

    /// An event Attentive refuses for its type (or of a type it refused earlier in the run): failed, so the next run
    /// sends it again (under the name the file then gives); the ledger's error is the code alone.
    private func recordTypeNotOwned(_ event: UnsentEvent, httpStatus: Int? = nil, error: String, attempts: Int = 0) {
        if httpStatus == nil { _ = refusedTypes.add(event.type, sentAs: names.sentName(of: event.type)) }
        do {
            try EventLedger.recordOutcome(
                key: event.key, delivered: false, httpStatus: httpStatus, error: EventTypeOwnership.code,
                attempts: attempts, runID: runID, on: writer)
        } catch {
            ledgerError = ledgerError ?? JobError(classifying: error)
        }
        report.record(event, outcome: .failed, httpStatus: httpStatus, error: error, attempts: attempts)
    }

    /// An event no request was started for: failed for this run, sent by the next.
    private func recordNotSent(_ event: UnsentEvent, reason: String) {
        let error = "not sent: \(reason)"
        try? EventLedger.recordOutcome(
            key: event.key, delivered: false, httpStatus: nil, error: error, attempts: 0, runID: runID, on: writer)
        report.record(event, outcome: .failed, error: error)
    }
}
