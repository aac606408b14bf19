import Foundation

/// What became of one request to Attentive after rate limiting and retries.
public enum DeliveryOutcome: Sendable, Equatable {
    /// Attentive answered 2xx (the status is recorded; an unexpected or empty body still counts).
    case accepted(status: Int, attempts: Int)
    /// Attentive refused the request for good (400, 404 or another non-retryable 4xx), with its
    /// message trimmed, bounded, and HTML reduced to a summary. Not retried. Status `0` with
    /// `attempts: 0` means the client refused it before sending (for example no email and no phone).
    case rejected(status: Int, message: String, attempts: Int)
    /// 429s, 5xx, timeouts or connection errors persisted: attempts ran out, the client's retry time
    /// budget was spent, the client halted, or shutdown began while waiting to retry.
    case gaveUp(lastStatus: Int?, lastError: String, attempts: Int)
    /// Attentive answered 401 or 403: the key is wrong or lacks the Custom Attributes permission.
    /// The client is now halted; the run must stop.
    case unauthorized(status: Int, message: String)
    /// Nothing was sent: the client was already halted by a 401/403, or shutdown had begun.
    case notSent(reason: String)

    /// The statuses by which Attentive refuses a request for its content (README "Refusals"): the same body
    /// would be refused again, so the job parks it instead of retrying it every run. 401/403 (the key), 404,
    /// 408, 409 and 429 are not about the content.
    public static let contentRefusalStatuses: Set<Int> = [400, 413, 422]

    /// Whether Attentive refused the request for its content (``contentRefusalStatuses``).
    public var isContentRefusal: Bool {
        if case .rejected(let status, _, _) = self { return Self.contentRefusalStatuses.contains(status) }
        return false
    }

    /// Whether Attentive accepted the request.
    public var isAccepted: Bool {
        if case .accepted = self { return true }
        return false
    }

    /// How many HTTP attempts were made (0 for `.notSent`, 1 for `.unauthorized`).
    public var attempts: Int {
        switch self {
        case .accepted(_, let attempts), .rejected(_, _, let attempts), .gaveUp(_, _, let attempts):
            return attempts
        case .unauthorized:
            return 1
        case .notSent:
            return 0
        }
    }
}
