import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Client of Attentive's custom-attributes and bulk user-attributes APIs, built for a nightly job
/// sending hundreds of thousands of updates to an API that throttles, fails and times out.
///
/// Each endpoint is paced by its own ``RateLimiter``; 408/429/5xx answers, timeouts and connection
/// errors are retried per ``RetryPolicy`` within one shared retry-time budget. Methods never throw:
/// every outcome is a value. A 401/403 halts the client (``isHalted``; a custom event's 403 does not, see
/// ``sendCustomEvent(body:)``): later calls return
/// `.notSent`. The caller bounds concurrency itself (for example a task group of 32); the client
/// only paces. Cancelling a calling task never cancels a request in flight (its answer is still
/// recorded); it only stops further attempts.
public final class AttentiveClient: Sendable {
    /// The settings this client was created with.
    public let configuration: AttentiveClientConfiguration

    let executor: RequestExecutor
    let requests: RequestFactory
    let customAttributesLimiter: RateLimiter
    let customEventsLimiter: RateLimiter
    let meLimiter: RateLimiter
    let bulkSubmitLimiter: RateLimiter
    let bulkJobLimiter: RateLimiter
    let privacyLimiter: RateLimiter

    /// Creates a client over libcurl (``CurlTransport``).
    public convenience init(configuration: AttentiveClientConfiguration) {
        self.init(
            configuration: configuration,
            transport: CurlTransport(
                requestTimeout: configuration.requestTimeout,
                maxConnections: configuration.maxConnections
            )
        )
    }

    /// Creates a client over any transport (tests).
    init(
        configuration: AttentiveClientConfiguration,
        transport: any HTTPTransport,
        clock: any RateLimiterClock = ContinuousRateLimiterClock(),
        random: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }
    ) {
        self.configuration = configuration
        executor = RequestExecutor(
            transport: transport,
            policy: configuration.retry,
            redactor: Redactor(secret: configuration.apiKey),
            random: random
        )
        requests = RequestFactory(baseURL: configuration.baseURL, apiKey: configuration.apiKey)
        customAttributesLimiter = RateLimiter(requestsPerSecond: configuration.maxRequestsPerSecond, clock: clock)
        customEventsLimiter = RateLimiter(requestsPerSecond: configuration.maxRequestsPerSecond, clock: clock)
        meLimiter = RateLimiter(requestsPerSecond: configuration.maxRequestsPerSecond, clock: clock)
        bulkSubmitLimiter = RateLimiter(requestsPerSecond: configuration.maxBulkRequestsPerSecond, clock: clock)
        bulkJobLimiter = RateLimiter(requestsPerSecond: configuration.maxBulkRequestsPerSecond, clock: clock)
        privacyLimiter = RateLimiter(requestsPerSecond: configuration.maxRequestsPerSecond, clock: clock)
    }

    /// True once Attentive has answered 401 or 403 to any call; the run should stop.
    public var isHalted: Bool { executor.isHalted }

    /// From now on no new attempt or retry starts; requests in flight finish normally. Calls waiting
    /// to retry return `.gaveUp`, later calls `.notSent`.
    public func beginShutdown() {
        executor.beginShutdown()
    }

    /// Counters since the client was created.
    public func statistics() -> ClientStatistics {
        executor.statistics
    }

    /// Sets custom attributes of one user: `POST /v1/attributes/custom`. Rate-limited and retried;
    /// never throws.
    ///
    /// - 2xx → `.accepted` (whatever the body). 400, 404 and other 4xx → `.rejected` with Attentive's
    ///   message, after one attempt. 401/403 → `.unauthorized`, and the client halts.
    ///   408/429/5xx, timeouts and connection errors are retried, then → `.gaveUp`.
    /// - A user with neither email nor phone is `.rejected(status: 0, …, attempts: 0)` unsent.
    public func sendCustomAttributes(_ update: AttributeUpdate) async -> DeliveryOutcome {
        guard update.user.hasIdentifier else {
            return .rejected(status: 0, message: "the update has neither an email nor a phone number", attempts: 0)
        }
        guard let body = try? RequestBody.customAttributes(update),
            let url = requests.url(path: "/v1/attributes/custom")
        else {
            return .rejected(status: 0, message: "the update could not be encoded", attempts: 0)
        }
        let request = requests.request(method: "POST", url: url, body: body)
        return outcome(of: await executor.execute(request, limiter: customAttributesLimiter))
    }

    /// Sends one custom event: `POST /v1/events/custom` with `body` (``CustomEventJSON``, kept by the caller so
    /// every attempt sends the same bytes). Paced by its own limiter (Attentive limits each endpoint apart);
    /// answers map as for ``sendCustomAttributes(_:)``, except 403: Attentive refuses an event type created by
    /// another app ("Custom events must be triggered using the same custom app that originally created them"), so
    /// a 403 here is `.rejected(status: 403, …)` and does not halt the client; the caller tells the key from the
    /// type with ``verifyKey()``. A 401 is the key's, and halts it. Never throws.
    public func sendCustomEvent(body: String) async -> DeliveryOutcome {
        guard let url = requests.url(path: "/v1/events/custom") else {
            return .rejected(status: 0, message: "the base URL is not usable", attempts: 0)
        }
        let request = requests.request(method: "POST", url: url, body: Data(body.utf8))
        return outcome(of: await executor.execute(request, limiter: customEventsLimiter, haltingStatuses: [401]))
    }

    /// Checks the API key with `GET /v1/me`: `.accepted` when the key works, `.unauthorized` when
    /// it does not (and the client halts).
    public func verifyKey() async -> DeliveryOutcome {
        guard let url = requests.url(path: "/v1/me") else {
            return .rejected(status: 0, message: "the base URL is not usable", attempts: 0)
        }
        return outcome(of: await executor.execute(requests.request(method: "GET", url: url), limiter: meLimiter))
    }

    /// Reads a user's custom attributes: `GET /v1/attributes/custom?email=` (or `?phone=` when there
    /// is no email; Attentive accepts only one). `nil` when Attentive answers 404.
    public func customAttributes(of user: AttentiveUser) async -> Result<[String: String]?, AttentiveError> {
        let operation = "GET /v1/attributes/custom"
        let query: (String, String)
        if let email = user.nonEmptyEmail {
            query = ("email", email)
        } else if let phone = user.nonEmptyPhone {
            query = ("phone", phone)
        } else {
            return .failure(
                AttentiveError(
                    kind: .invalidRequest, operation: operation, message: "the user has neither email nor phone")
            )
        }
        guard let url = requests.url(path: "/v1/attributes/custom", query: [query]) else {
            return .failure(
                AttentiveError(kind: .invalidRequest, operation: operation, message: "the URL could not be built"))
        }
        let result = await executor.execute(requests.request(method: "GET", url: url), limiter: customAttributesLimiter)
        switch result {
        case .response(let response, let attempts):
            if response.status == 404 { return .success(nil) }
            guard (200..<300).contains(response.status) else {
                return .failure(error(operation, .rejected, response: response, attempts: attempts))
            }
            guard let attributes = ResponseBody.customAttributes(response.body) else {
                return .failure(error(operation, .unexpectedResponse, response: response, attempts: attempts))
            }
            return .success(attributes)
        default:
            return .failure(error(operation, result))
        }
    }

    // MARK: - Mapping

    func outcome(of result: ExchangeResult) -> DeliveryOutcome {
        switch result {
        case .response(let response, let attempts):
            if (200..<300).contains(response.status) { return .accepted(status: response.status, attempts: attempts) }
            return .rejected(status: response.status, message: executor.summary(of: response), attempts: attempts)
        case .unauthorized(let status, let message):
            return .unauthorized(status: status, message: message)
        case .gaveUp(let lastStatus, let lastError, let attempts):
            return .gaveUp(lastStatus: lastStatus, lastError: lastError, attempts: attempts)
        case .notSent(let reason):
            return .notSent(reason: reason)
        }
    }

    func error(_ operation: String, _ kind: AttentiveError.Kind, response: HTTPResponse, attempts: Int)
        -> AttentiveError
    {
        let message =
            kind == .unexpectedResponse
            ? "unreadable body: " + executor.summary(of: response) : executor.summary(of: response)
        return AttentiveError(
            kind: kind, operation: operation, status: response.status, message: message, attempts: attempts)
    }

    /// The error for a result that carries no usable response.
    func error(_ operation: String, _ result: ExchangeResult) -> AttentiveError {
        switch result {
        case .response(let response, let attempts):
            return error(operation, .rejected, response: response, attempts: attempts)
        case .unauthorized(let status, let message):
            return AttentiveError(
                kind: .unauthorized, operation: operation, status: status, message: message, attempts: 1)
        case .gaveUp(let lastStatus, let lastError, let attempts):
            return AttentiveError(
                kind: .unavailable, operation: operation, status: lastStatus, message: lastError, attempts: attempts)
        case .notSent(let reason):
            return AttentiveError(kind: .notSent, operation: operation, message: reason)
        }
    }
}
