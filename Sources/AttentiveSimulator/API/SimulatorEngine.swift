import Foundation
import Synchronization

/// Everything behind the HTTP server: configuration, stores, limiter, faults and counters, plus the request
/// pipeline: authenticate → rate limit → inject fault → validate and apply → answer after the latency.
final class SimulatorEngine: Sendable {
    let profiles = ProfileStore()
    let events = EventStore()
    let statistics = StatisticsRecorder()
    let limiter = FixedWindowLimiter()
    let faults: FaultInjector
    let bulk: BulkJobStore
    let privacy: PrivacyRequestStore
    private let state: Mutex<(configuration: SimulatorConfiguration, port: UInt16)>

    init(configuration: SimulatorConfiguration) {
        faults = FaultInjector(seed: configuration.seed)
        bulk = BulkJobStore(profiles: profiles, statistics: statistics)
        privacy = PrivacyRequestStore(profiles: profiles, events: events)
        state = Mutex((configuration, configuration.port))
    }

    /// The current configuration.
    var configuration: SimulatorConfiguration {
        state.withLock { $0.configuration }
    }

    /// The port used in results-file URLs.
    var port: UInt16 {
        get { state.withLock { $0.port } }
        set { state.withLock { $0.port = newValue } }
    }

    /// Replaces the configuration and restarts the fault generators from its seed.
    func update(configuration: SimulatorConfiguration) {
        state.withLock { $0.configuration = configuration }
        faults.reseed(configuration.seed)
    }

    /// Clears profiles, bulk jobs, privacy requests, rate-limit windows and counters; restarts the generators.
    func reset() {
        bulk.removeAll()
        privacy.removeAll()
        profiles.removeAll()
        events.removeAll()
        limiter.reset()
        statistics.reset()
        faults.reseed(configuration.seed)
    }

    /// The counters.
    func statisticsSnapshot() -> SimulatorStatistics {
        statistics.snapshot(peakAdmitted: limiter.peakAdmitted)
    }

    /// Handles one request.
    func handle(_ request: HTTPRequest) -> HTTPOutcome {
        let path = request.path
        if path.hasPrefix("/__simulator/") {
            return .respond(control(request, path: path), delayMilliseconds: 0)
        }
        statistics.recordRequest()
        let configuration = self.configuration
        guard let matched = APIRoute.match(method: request.method, path: path) else {
            return answer(.error(404, "Not Found: \(request.method) \(path)"), configuration: configuration)
        }
        switch matched {
        case .failure(let notAllowed):
            var response = ServerResponse.error(405, "Method Not Allowed")
            response.setHeader("Allow", notAllowed.allowed)
            return answer(response, configuration: configuration)
        case .success(let route):
            return handle(request, route: route, configuration: configuration)
        }
    }

    private func limit(for route: APIRoute, in configuration: SimulatorConfiguration) -> Int? {
        switch route.limitKind {
        case .customAttributes: return configuration.rateLimitPerSecond
        case .bulk: return configuration.bulkRateLimitPerSecond
        case .none: return nil
        }
    }

    private func handle(_ request: HTTPRequest, route: APIRoute, configuration: SimulatorConfiguration)
        -> HTTPOutcome
    {
        let limit = limit(for: route, in: configuration)
        let key = SimulatorEngine.bearerToken(request.header("authorization"))
        guard let key, !configuration.forbiddenKeys.contains(key), key == configuration.apiKey else {
            let forbidden = key.map { configuration.forbiddenKeys.contains($0) } ?? false
            let rate = limiter.peek(endpoint: route.endpoint, key: key ?? "", limit: limit)
            let response =
                forbidden ? ServerResponse.error(403, "Access Denied") : ServerResponse.error(401, "Unauthorized")
            return answer(response, rate: rate, configuration: configuration)
        }
        let rate = limiter.admit(endpoint: route.endpoint, key: key, limit: limit)
        guard rate.admitted else {
            return answer(
                .error(429, "Too Many Requests"), rate: rate, configuration: configuration, rateLimited: true)
        }
        let fault = faults.drawFault(configuration.faults)
        switch fault {
        case .internalError:
            statistics.recordFault(.internalError)
            return answer(.error(500, "Internal Server Error"), rate: rate, configuration: configuration)
        case .htmlError:
            statistics.recordFault(.htmlError)
            return answer(
                .text(502, SimulatorEngine.badGatewayPage, contentType: "text/html"), rate: rate,
                configuration: configuration)
        case .tooManyRequests:
            statistics.recordFault(.tooManyRequests)
            return answer(.error(429, "Too Many Requests"), rate: rate, configuration: configuration)
        case .timeout:
            statistics.recordFault(.timeout)
            return .hang(seconds: configuration.faults.hangSeconds)
        case .dropConnection:
            statistics.recordFault(.dropConnection)
            return .drop
        case .shutdownAfterRequest:
            statistics.recordFault(.shutdownAfterRequest)
            return .shutdown
        case .resetConnection:
            statistics.recordFault(.resetConnection)
            return .reset
        case .halfOpen:
            statistics.recordFault(.halfOpen)
            return .halfOpen(seconds: configuration.faults.hangSeconds)
        case .endlessBody:
            statistics.recordFault(.endlessBody)
            statistics.recordStatus(200)
            return .endless(seconds: configuration.faults.hangSeconds)
        case .unexpectedBody, .badIdentity, .idleClose, .acceptedThenError, .foreignEventType, nil:
            break
        }
        var response = perform(route, request: request, configuration: configuration)
        if fault == .acceptedThenError, (200..<300).contains(response.status) {
            statistics.recordFault(.acceptedThenError)
            response = .error(500, "Internal Server Error")
        }
        if fault == .unexpectedBody, (200..<300).contains(response.status) {
            statistics.recordFault(.unexpectedBody)
            response = .text(response.status, "OK: request processed\n", contentType: "text/plain")
        }
        return answer(response, rate: rate, configuration: configuration)
    }

    /// Records the status, adds rate-limit (and Retry-After) headers, and applies the latency.
    private func answer(
        _ response: ServerResponse, rate: RateLimitDecision? = nil, configuration: SimulatorConfiguration,
        rateLimited: Bool = false
    ) -> HTTPOutcome {
        var response = response
        let unlimited = FixedWindowLimiter.unlimited
        let rate = rate ?? RateLimitDecision(admitted: true, limit: unlimited, remaining: unlimited)
        for header in rate.headers { response.setHeader(header.name, header.value) }
        if response.status == 429, let retryAfter = configuration.retryAfterSeconds {
            response.setHeader("Retry-After", String(max(0, retryAfter)))
        }
        statistics.recordStatus(response.status, rateLimited: rateLimited)
        let delay = faults.latency(
            base: configuration.latencyMilliseconds, jitter: configuration.latencyJitterMilliseconds)
        return .respond(
            response, delayMilliseconds: delay, idleCloseSeconds: faults.drawIdleClose(configuration.faults))
    }

    /// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
    static func bearerToken(_ header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    static let badGatewayPage = """
        <html>
        <head><title>502 Bad Gateway</title></head>
        <body>
        <center><h1>502 Bad Gateway</h1></center>
        <hr><center>nginx</center>
        </body>
        </html>

        """
}
