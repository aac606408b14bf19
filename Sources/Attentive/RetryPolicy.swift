import Foundation

/// How the client retries throttled (429), failed (5xx), timed-out and dropped requests:
/// exponential backoff with full jitter, a cap per delay, an attempt limit, and a budget of retry
/// sleeping shared by every request of one client for the whole run.
public struct RetryPolicy: Sendable, Equatable {
    /// Most HTTP attempts per request, the first included. Values below 1 behave as 1.
    public var maxAttempts: Int
    /// Delay cap before the second attempt; it doubles for each further attempt.
    public var baseDelay: Duration
    /// Largest delay before any attempt.
    public var maxDelay: Duration
    /// Budget for all retry sleeping of one client (across all requests and tasks). Once spent,
    /// requests that would need a retry give up instead.
    public var maxTotalRetryTime: Duration

    /// Creates a policy; the defaults are those of ``default``.
    public init(
        maxAttempts: Int = 6,
        baseDelay: Duration = .milliseconds(500),
        maxDelay: Duration = .seconds(30),
        maxTotalRetryTime: Duration = .seconds(15 * 60)
    ) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxTotalRetryTime = maxTotalRetryTime
    }

    /// 6 attempts, 0.5 s base delay, 30 s cap, 15 minutes of retry sleeping per client.
    public static let `default` = RetryPolicy()

    /// `maxAttempts`, at least 1.
    public var effectiveMaxAttempts: Int { max(1, maxAttempts) }

    /// The upper end of the jitter window before `attempt` (2 is the first retry):
    /// `min(maxDelay, baseDelay × 2^(attempt − 2))`; zero for the first attempt.
    public func delayCeiling(beforeAttempt attempt: Int) -> Duration {
        guard attempt >= 2 else { return .zero }
        let exponent = Double(min(attempt - 2, 1000))
        let ceiling = min(maxDelay.inSeconds, baseDelay.inSeconds * pow(2, exponent))
        return Duration.clampedSeconds(ceiling)
    }

    /// The delay before `attempt` (2 is the first retry): full jitter, uniform in
    /// `[0, delayCeiling(beforeAttempt:)]`, picked by `randomUnit` in `[0, 1]` (clamped; NaN is 0).
    /// Pure: the same inputs give the same delay.
    public func delay(beforeAttempt attempt: Int, randomUnit: Double) -> Duration {
        let unit = randomUnit.isNaN ? 0 : min(1, max(0, randomUnit))
        return Duration.clampedSeconds(delayCeiling(beforeAttempt: attempt).inSeconds * unit)
    }
}
