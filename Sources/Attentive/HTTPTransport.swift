import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A complete HTTP answer.
struct HTTPResponse: Sendable, Equatable {
    var status: Int
    /// Header fields, names lowercased.
    var headers: [String: String]
    var body: Data

    init(status: Int, headers: [String: String] = [:], body: Data = Data()) {
        self.status = status
        var lowered: [String: String] = [:]
        for (name, value) in headers { lowered[name.lowercased()] = value }
        self.headers = lowered
        self.body = body
    }

    /// A header value by case-insensitive name.
    func header(_ name: String) -> String? {
        headers[name.lowercased()]
    }
}

/// Why no HTTP answer arrived.
enum TransportFailure: Error, Sendable, Equatable {
    /// No complete response within the time allowed. Retryable.
    case timedOut(String)
    /// Could not connect, or the connection broke. Retryable.
    case connection(String)
    /// A problem retrying cannot fix (TLS certificate, malformed URL, ...).
    case fatal(String)

    var message: String {
        switch self {
        case .timedOut(let message), .connection(let message), .fatal(let message): return message
        }
    }

    var isRetryable: Bool {
        if case .fatal = self { return false }
        return true
    }
}

/// Sends one HTTP request and returns its complete answer. Implementations must never throw away
/// the calling task's work by cancelling it, and must bound the time of one exchange themselves.
protocol HTTPTransport: Sendable {
    func send(_ request: URLRequest) async -> Result<HTTPResponse, TransportFailure>
}
