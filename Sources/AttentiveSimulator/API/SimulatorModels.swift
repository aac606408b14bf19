import Foundation

/// One user as the simulator holds it: identified by email and/or phone, with its custom attributes.
public struct SimulatedProfile: Sendable, Codable, Equatable {
    /// The user's email, when known.
    public var email: String?
    /// The user's phone in E.164, when known.
    public var phone: String?
    /// Custom attributes, name to value; numbers and booleans are kept in their JSON text form ("6", "true").
    public var attributes: [String: String]

    /// A profile with the given identifiers and attributes.
    public init(email: String? = nil, phone: String? = nil, attributes: [String: String] = [:]) {
        self.email = email
        self.phone = phone
        self.attributes = attributes
    }
}

/// Counters since start or the last reset. Only API requests (`/v1/...`, `/v2/...`) are counted, never the
/// `/__simulator/...` control endpoints.
public struct SimulatorStatistics: Sendable, Codable, Equatable {
    /// API requests received (including faulted ones).
    public var requests: Int = 0
    /// 429 answers, from the rate limiter and from injected faults.
    public var tooManyRequests: Int = 0
    /// `POST /v1/attributes/custom` requests accepted (answered 200).
    public var acceptedUpdates: Int = 0
    /// Bulk records applied successfully when their job completed.
    public var acceptedBulkRecords: Int = 0
    /// Answers by HTTP status code ("200", "429", ...). Hung and dropped requests have no status.
    public var statusCounts: [String: Int] = [:]
    /// Most API requests received within one whole second of the monotonic clock.
    public var peakRequestsPerSecond: Int = 0
    /// Injected faults by kind: internalError, htmlError, tooManyRequests, timeout, dropConnection,
    /// unexpectedBody, badIdentity.
    public var faultsInjected: [String: Int] = [:]
    /// 429 answers produced by the rate limiter (as opposed to injected ones).
    public var rateLimited: Int = 0
    /// Most requests the rate limiter admitted for one endpoint and key within one 1-second window; never more
    /// than the configured limit.
    public var peakAdmittedPerSecond: Int = 0
    /// Bulk jobs submitted (answered 202).
    public var bulkJobsSubmitted: Int = 0

    /// Zeroed counters.
    public init() {}
}

/// Why the simulator could not start.
public enum SimulatorError: Error, Equatable, CustomStringConvertible {
    /// The requested port on 127.0.0.1 is already bound by another socket.
    case portInUse(UInt16)
    /// A socket call failed; carries the call name and `errno`.
    case socketFailure(call: String, errno: Int32)
    /// `start()` was called while the simulator was already running.
    case alreadyRunning

    /// A human-readable explanation.
    public var description: String {
        switch self {
        case .portInUse(let port):
            return "attentive-simulator: port \(port) on 127.0.0.1 is already in use"
        case .socketFailure(let call, let code):
            return "attentive-simulator: \(call) failed: \(String(cString: strerror(code))) (errno \(code))"
        case .alreadyRunning:
            return "attentive-simulator: already running"
        }
    }
}
