import Foundation
import Testing

@testable import Attentive

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The API key used throughout the tests; it must never show up in any message.
let testAPIKey = "sk_test_SECRET-9f3a"

/// A base URL for fake-transport tests (never contacted).
let testBaseURL = URL(string: "https://api.example.test") ?? URL(fileURLWithPath: "/")

/// A clock that only moves when told to (or when a limiter "sleeps" on it).
final class ManualClock: RateLimiterClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Duration = .zero

    func now() -> Duration {
        lock.withLock { current }
    }

    func sleep(for duration: Duration) async {
        advance(by: duration)
    }

    func advance(by duration: Duration) {
        lock.withLock { current += max(.zero, duration) }
    }
}

/// A transport answering from a script, then with a fallback, recording every request.
final class ScriptedTransport: HTTPTransport, @unchecked Sendable {
    private let lock = NSLock()
    private var script: [Result<HTTPResponse, TransportFailure>]
    private let fallback: Result<HTTPResponse, TransportFailure>
    private var received: [URLRequest] = []

    init(
        _ script: [Result<HTTPResponse, TransportFailure>],
        then fallback: Result<HTTPResponse, TransportFailure> = .success(HTTPResponse(status: 200))
    ) {
        self.script = script
        self.fallback = fallback
    }

    func send(_ request: URLRequest) async -> Result<HTTPResponse, TransportFailure> {
        lock.withLock {
            received.append(request)
            return script.isEmpty ? fallback : script.removeFirst()
        }
    }

    var requests: [URLRequest] { lock.withLock { received } }
    var requestCount: Int { lock.withLock { received.count } }
}

/// Shorthand for a JSON response.
func jsonResponse(_ status: Int, _ body: String, headers: [String: String] = [:]) -> Result<
    HTTPResponse, TransportFailure
> {
    var all = headers
    all["Content-Type"] = "application/json"
    return .success(HTTPResponse(status: status, headers: all, body: Data(body.utf8)))
}

/// A configuration for fake-transport tests: fast retries, generous limits.
func fastConfiguration(
    maxAttempts: Int = 4,
    baseDelay: Duration = .milliseconds(1),
    budget: Duration = .seconds(60)
) -> AttentiveClientConfiguration {
    var configuration = AttentiveClientConfiguration(
        baseURL: testBaseURL,
        apiKey: testAPIKey
    )
    configuration.maxRequestsPerSecond = 1000
    configuration.maxBulkRequestsPerSecond = 1000
    configuration.retry = RetryPolicy(
        maxAttempts: maxAttempts, baseDelay: baseDelay, maxDelay: .milliseconds(20), maxTotalRetryTime: budget)
    return configuration
}

/// A client over `transport` with `random` fixed at 1 (each retry waits its full ceiling).
func scriptedClient(_ transport: ScriptedTransport, _ configuration: AttentiveClientConfiguration = fastConfiguration())
    -> AttentiveClient
{
    AttentiveClient(configuration: configuration, transport: transport, random: { 1 })
}

let sampleUpdate = AttributeUpdate(
    user: AttentiveUser(email: "ada@example.com", phone: nil),
    properties: ["referral_code": "ADA-42", "referrals": "3"]
)
