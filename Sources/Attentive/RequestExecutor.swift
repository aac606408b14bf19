import Foundation
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The final result of sending one request with rate limiting and retries.
enum ExchangeResult: Sendable, Equatable {
    /// A final answer: 2xx, 3xx, or a 4xx that retrying cannot fix (except 401/403).
    case response(HTTPResponse, attempts: Int)
    /// A halting 401 or 403; the client is now halted.
    case unauthorized(status: Int, message: String)
    /// Retryable failures outlasted attempts, budget, or the client's willingness to continue.
    case gaveUp(lastStatus: Int?, lastError: String, attempts: Int)
    /// Nothing was sent (halted, shutting down, cancelled).
    case notSent(reason: String)
}

/// Runs requests: waits for the endpoint's rate limiter, sends, feeds the answer back to the
/// limiter, retries 408/429/5xx and transport failures with jittered exponential backoff within
/// the shared retry budget, and halts the client on 401/403 (a custom event's 403: see ``execute(_:limiter:haltingStatuses:)``).
final class RequestExecutor: Sendable {
    private struct State {
        var haltReason: String?
        var shuttingDown = false
        var statistics = ClientStatistics()
    }

    let redactor: Redactor
    private let transport: any HTTPTransport
    private let policy: RetryPolicy
    private let budget: RetryBudget
    private let state = Mutex(State())
    private let random: @Sendable () -> Double
    /// Longest single sleep between checks for shutdown while waiting to retry.
    private let sleepSlice: Duration = .milliseconds(50)

    init(
        transport: any HTTPTransport,
        policy: RetryPolicy,
        redactor: Redactor,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }
    ) {
        self.transport = transport
        self.policy = policy
        self.redactor = redactor
        self.random = random
        budget = RetryBudget(total: policy.maxTotalRetryTime)
    }

    var isHalted: Bool { state.withLock { $0.haltReason != nil } }

    var statistics: ClientStatistics { state.withLock { $0.statistics } }

    func beginShutdown() {
        state.withLock { $0.shuttingDown = true }
    }

    /// Why no new attempt may start, if one may not.
    func stopReason() -> String? {
        if let halt = state.withLock({ $0.haltReason }) { return halt }
        if state.withLock({ $0.shuttingDown }) { return "shutdown has begun" }
        if Task.isCancelled { return "the calling task was cancelled" }
        return nil
    }

    /// Sends `request`, pacing every attempt through `limiter` (if any). The statuses of `haltingStatuses`
    /// (401 and 403 by default) halt the client; any other 401/403 is an ordinary final answer: none for a request
    /// that does not carry the key (a results file on a storage host), only 401 for a custom event, whose 403 may
    /// refuse the event type rather than the key (the caller asks `GET /v1/me` which).
    func execute(_ request: URLRequest, limiter: RateLimiter?, haltingStatuses: Set<Int> = [401, 403]) async
        -> ExchangeResult
    {
        var attempts = 0
        var lastStatus: Int?
        var lastError = ""
        while true {
            if let reason = stopReason() {
                return stopped(reason: reason, attempts: attempts, lastStatus: lastStatus, lastError: lastError)
            }
            if let limiter { await limiter.acquire() }
            if let reason = stopReason() {
                return stopped(reason: reason, attempts: attempts, lastStatus: lastStatus, lastError: lastError)
            }
            attempts += 1
            state.withLock { $0.statistics.requestsSent += 1 }
            var retryAfter: Duration?
            switch await transport.send(request) {
            case .success(let response):
                let feedback = RateLimitFeedback(status: response.status, headers: response.headers)
                await limiter?.record(feedback)
                record(status: response.status)
                let status = response.status
                if haltingStatuses.contains(status) {
                    let message = summary(of: response)
                    halt(status: status, message: message)
                    return .unauthorized(status: status, message: message)
                }
                guard Self.isRetryable(status: status) else { return .response(response, attempts: attempts) }
                lastStatus = status
                lastError = summary(of: response)
                retryAfter = feedback.retryAfter
            case .failure(let failure):
                record(failure: failure)
                lastStatus = nil
                lastError = redactor.redact(failure.message)
                guard failure.isRetryable else {
                    return .gaveUp(lastStatus: nil, lastError: lastError, attempts: attempts)
                }
            }
            guard attempts < policy.effectiveMaxAttempts else {
                return .gaveUp(lastStatus: lastStatus, lastError: lastError, attempts: attempts)
            }
            var delay = policy.delay(beforeAttempt: attempts + 1, randomUnit: random())
            if let retryAfter { delay = max(delay, retryAfter) }
            guard budget.reserve(delay) else {
                state.withLock { $0.statistics.retryBudgetExhaustions += 1 }
                return .gaveUp(
                    lastStatus: lastStatus,
                    lastError: lastError + " (retry time budget spent)",
                    attempts: attempts
                )
            }
            state.withLock {
                $0.statistics.retries += 1
                $0.statistics.retrySleep += delay
            }
            if let reason = await sleepUnlessStopped(delay) {
                return stopped(reason: reason, attempts: attempts, lastStatus: lastStatus, lastError: lastError)
            }
        }
    }

    /// 408, 429 and every 5xx are worth retrying; everything else is final.
    static func isRetryable(status: Int) -> Bool {
        status == 408 || status == 429 || (500..<600).contains(status)
    }

    /// The bounded, redacted message of an error response.
    func summary(of response: HTTPResponse) -> String {
        ResponseMessage.summarize(
            status: response.status,
            body: response.body,
            contentType: response.header("content-type"),
            redactor: redactor
        )
    }

    private func stopped(reason: String, attempts: Int, lastStatus: Int?, lastError: String) -> ExchangeResult {
        guard attempts > 0 else { return .notSent(reason: reason) }
        return .gaveUp(
            lastStatus: lastStatus, lastError: "\(lastError); stopped retrying: \(reason)", attempts: attempts)
    }

    private func halt(status: Int, message: String) {
        state.withLock { state in
            if state.haltReason == nil {
                state.haltReason = "client halted: Attentive answered HTTP \(status) (\(message))"
            }
        }
    }

    private func record(status: Int) {
        state.withLock { state in
            state.statistics.responsesByStatus[status, default: 0] += 1
            if status == 429 { state.statistics.tooManyRequests += 1 }
        }
    }

    private func record(failure: TransportFailure) {
        state.withLock { state in
            switch failure {
            case .timedOut: state.statistics.timeouts += 1
            case .connection, .fatal: state.statistics.connectionErrors += 1
            }
        }
    }

    /// Sleeps `delay` in short slices; returns why it stopped early, or `nil` after the full delay.
    private func sleepUnlessStopped(_ delay: Duration) async -> String? {
        let clock = ContinuousClock()
        let end = clock.now + delay
        while clock.now < end {
            if let reason = stopReason() { return reason }
            let slice = min(sleepSlice, end - clock.now)
            do {
                try await Task.sleep(for: slice)
            } catch {
                return "the calling task was cancelled"
            }
        }
        return stopReason()
    }
}
