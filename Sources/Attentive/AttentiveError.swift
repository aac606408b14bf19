import Foundation

/// Why an Attentive call that returns a `Result` failed: which call, the HTTP status when there was
/// one, and Attentive's message. Never contains the API key.
public struct AttentiveError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The broad reason for the failure.
    public enum Kind: String, Sendable, Equatable {
        /// The call could not be built (for example a user with neither email nor phone).
        case invalidRequest
        /// Attentive answered with a non-retryable status (400, 404 where not expected, ...).
        case rejected
        /// Attentive answered 401 or 403: the key is wrong or lacks a permission. The client halts.
        case unauthorized
        /// Throttling, server errors, timeouts or connection failures outlasted the retries.
        case unavailable
        /// Nothing was sent: the client is halted or shutting down.
        case notSent
        /// Attentive answered success with a body the client could not read.
        case unexpectedResponse
    }

    /// The broad reason for the failure.
    public var kind: Kind
    /// The call that failed, such as `GET /v1/attributes/custom`.
    public var operation: String
    /// The last HTTP status received, if any.
    public var status: Int?
    /// Attentive's message or the transport problem, trimmed and bounded.
    public var message: String
    /// How many HTTP attempts were made.
    public var attempts: Int

    /// Creates an error. `message` should already be free of the API key.
    public init(kind: Kind, operation: String, status: Int? = nil, message: String, attempts: Int = 0) {
        self.kind = kind
        self.operation = operation
        self.status = status
        self.message = message
        self.attempts = attempts
    }

    /// For example `GET /v1/attributes/custom failed (rejected, HTTP 400, 1 attempt): Invalid phone`.
    public var description: String {
        var details = [kind.rawValue]
        if let status { details.append("HTTP \(status)") }
        if attempts > 0 { details.append(attempts == 1 ? "1 attempt" : "\(attempts) attempts") }
        return "\(operation) failed (\(details.joined(separator: ", "))): \(message)"
    }
}
