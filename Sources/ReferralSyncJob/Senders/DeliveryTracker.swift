import Attentive

/// What every path that talks to Attentive learns from its answers and how it ends because of them, in one place:
/// the first 401/403 (the key is refused: no new request, exit 77), the last failure that got no HTTP answer (to
/// name a TLS or connection problem), and the verdict at the end: stopped by a signal (130/143), the key refused
/// (77), Attentive unreachable (69), or what the caller found otherwise. Used with ``BoundedSender`` by
/// ``V1Sender``, ``BulkSender``, ``EventSender`` and the drift check's reads.
final class DeliveryTracker {
    private let client: AttentiveClient
    private let stopSignal: StopSignal
    /// Attentive's answer to the first 401/403.
    private(set) var refusedKey: String?
    /// The last failure that got no HTTP answer.
    private(set) var lastUnanswered: String?

    init(client: AttentiveClient, stopSignal: StopSignal) {
        self.client = client
        self.stopSignal = stopSignal
    }

    /// One answer's outcome as a report row: accepted, its HTTP status, the error text and the attempts.
    struct Answer {
        var accepted: Bool
        /// Refused for its content (README "Refusals"): parked, not sent again while unchanged.
        var refused = false
        var httpStatus: Int?
        var error: String?
        var attempts: Int
    }

    /// Notes what `outcome` tells about the run and returns it as a row.
    func note(_ outcome: DeliveryOutcome) -> Answer {
        switch outcome {
        case .accepted(let status, let attempts):
            return Answer(accepted: true, httpStatus: status, attempts: attempts)
        case .rejected(let status, let message, let attempts):
            return Answer(
                accepted: false, refused: outcome.isContentRefusal, httpStatus: status, error: message,
                attempts: attempts)
        case .gaveUp(let status, let message, let attempts):
            if status == nil { noteUnanswered(message) }
            return Answer(accepted: false, httpStatus: status, error: message, attempts: attempts)
        case .unauthorized(let status, let message):
            noteRefusedKey("Attentive answered \(status): \(message)")
            return Answer(accepted: false, httpStatus: status, error: message, attempts: 1)
        case .notSent(let reason):
            return Answer(accepted: false, error: "not sent: \(reason)", attempts: 0)
        }
    }

    /// Notes that Attentive refused the key; the first refusal is the one reported.
    func noteRefusedKey(_ message: String) {
        refusedKey = refusedKey ?? message
    }

    /// Notes a failure that got no HTTP answer.
    func noteUnanswered(_ message: String) {
        lastUnanswered = message
    }

    /// Why no new request may start now, if one may not: the reasons every sender shares, in one wording
    /// (`changes.csv` and `events.csv` write them after "not sent: "). A halted client counts as a refused key
    /// before its refusal is settled: it would send nothing.
    /// - Parameter cannotRecord: Whether an answer could not be recorded (the ledger or the bulk store failed).
    func notSendingReason(cannotRecord: Bool) -> String? {
        if let signal = stopSignal.stopRequest { return "the run was stopped by signal \(signal)" }
        if let loss = stopSignal.lockLoss { return "the run lost its lock: \(loss)" }
        if refusedKey != nil || client.isHalted { return "Attentive refused the API key earlier in this run" }
        if cannotRecord { return "the database could not be written, so Attentive's answers could not be recorded" }
        return nil
    }

    /// How the sending ended: stopped by a signal, the key refused, Attentive unreachable, or `otherwise`.
    func verdict(otherwise: JobError?) -> JobError? {
        if let signal = stopSignal.stopRequest { return JobError.stopped(by: signal) }
        if let refusedKey { return JobError.unauthorized(refusedKey) }
        if let unreachable = AttentiveReachability.unreachable(client.statistics(), lastError: lastUnanswered) {
            return unreachable
        }
        return otherwise
    }
}
