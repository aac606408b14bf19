import Foundation

/// Settings of an ``AttentiveClient``. Its descriptions (`description`, `debugDescription`,
/// `dump`) never show the API key.
public struct AttentiveClientConfiguration: Sendable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// Attentive's API root without a version suffix, e.g. `https://api.attentivemobile.com`
    /// (a trailing `/v1` or `/v2` is ignored).
    public var baseURL: URL
    /// The private app's API key, sent as `Authorization: Bearer …` and only to `baseURL`'s host.
    public var apiKey: String
    /// Pace of the v1 custom-attributes endpoint (Attentive allows 150/s per endpoint per key).
    public var maxRequestsPerSecond: Double = Self.attentiveRequestsPerSecond
    /// Pace of each bulk endpoint (Attentive allows 100/s).
    public var maxBulkRequestsPerSecond: Double = Self.attentiveBulkRequestsPerSecond
    /// Longest time for one whole exchange, from connecting to the last byte of the body, to the millisecond
    /// (libcurl's `CURLOPT_TIMEOUT_MS`).
    public var requestTimeout: Duration = Self.defaultRequestTimeout
    /// How throttled and failed requests are retried.
    public var retry: RetryPolicy = .default
    /// HTTP/1.1 keep-alive connections open at once, at most (per host and in all); keep it at or above the
    /// caller's concurrency, or requests queue for a connection within their deadline.
    public var maxConnections: Int = 64

    /// Attentive's limit for one endpoint and key: the default pace (`--max-rps`).
    public static let attentiveRequestsPerSecond: Double = 150
    /// Attentive's limit for each bulk endpoint: the bulk pace never goes above it.
    public static let attentiveBulkRequestsPerSecond: Double = 100
    /// The default for one whole exchange (`--request-timeout`).
    public static let defaultRequestTimeout: Duration = .seconds(30)

    /// Creates a configuration with Attentive's documented limits as defaults.
    public init(baseURL: URL, apiKey: String) {
        self.baseURL = baseURL
        self.apiKey = apiKey
    }

    /// All settings, the API key redacted.
    public var description: String {
        "AttentiveClientConfiguration(baseURL: \(displayedBaseURL), apiKey: \(Redactor.placeholder), "
            + "maxRequestsPerSecond: \(maxRequestsPerSecond), maxBulkRequestsPerSecond: \(maxBulkRequestsPerSecond), "
            + "requestTimeout: \(requestTimeout), retry: \(retry), maxConnections: \(maxConnections))"
    }

    /// Same as ``description``.
    public var debugDescription: String { description }

    /// A mirror without the key, so `dump` and reflection cannot reveal it.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "baseURL": displayedBaseURL,
                "apiKey": Redactor.placeholder,
                "maxRequestsPerSecond": maxRequestsPerSecond,
                "maxBulkRequestsPerSecond": maxBulkRequestsPerSecond,
                "requestTimeout": requestTimeout,
                "retry": retry,
                "maxConnections": maxConnections,
            ],
            displayStyle: .struct
        )
    }

    /// `baseURL` without any user or password, and with the key redacted should it appear in it.
    private var displayedBaseURL: String {
        var text = baseURL.absoluteString
        if var components = URLComponents(url: baseURL, resolvingAgainstBaseURL: true),
            components.user != nil || components.password != nil
        {
            components.user = nil
            components.password = nil
            text = components.string ?? "<unprintable URL>"
        }
        return Redactor(secret: apiKey).redact(text)
    }
}
