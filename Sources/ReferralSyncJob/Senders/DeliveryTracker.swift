import Attentive

/// What every sender learns from Attentive's answers and how a run ends because of them, in one place: the first
/// 401/403 (the key is refused: stop, exit 77), the last failure that got no HTTP answer (to name a TLS or
/// connection problem), and the verdict at the end (stopped by a signal, key refused, Attentive unreachable).
/// Used by ``V1Sender`` (attribute values) and ``EventSender`` (events).
final class DeliveryTracker {
    /// Attentive's answer to the first 401/403.
    private(set) var unauthorized: String?
    /// The last failure that got no HTTP answer.
    private(set) var lastUnanswered: String?

    /// One answer's outcome as a report row: accepted, its HTTP status, the error text and the attempts.
    struct Answer {
        var accepted: Bool
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
            return Answer(accepted: false, httpStatus: status, error: message, attempts: attempts)
        case .gaveUp(let status, let message, let attempts):
            if status == nil { lastUnanswered = message }
            return Answer(accepted: false, httpStatus: status, error: message, attempts: attempts)
        case .unauthorized(let status, let message):
            unauthorized = unauthorized ?? "Attentive answered \(status): \(message)"
            return Answer(accepted: false, httpStatus: status, error: message, attempts: 1)
        case .notSent(let reason):
            return Answer(accepted: false, error: "not sent: \(reason)", attempts: 0)
        }
    }

    /// Why no new request may start now, if one may not.
    func notSendingReason(stopSignal: StopSignal, cannotRecord: Bool) -> String? {
        NotSending.reason(stopSignal: stopSignal, keyRefused: unauthorized != nil, cannotRecord: cannotRecord)
    }

    /// How the sending ended: stopped by a signal, the key refused, Attentive unreachable, or `otherwise`.
    func verdict(stopSignal: StopSignal, client: AttentiveClient, otherwise: JobError?) -> JobError? {
        if let signal = stopSignal.stopRequest { return JobError.stopped(by: signal) }
        if let unauthorized { return JobError.unauthorized(unauthorized) }
        if let unreachable = AttentiveReachability.unreachable(client.statistics(), lastError: lastUnanswered) {
            return unreachable
        }
        return otherwise
    }
}
