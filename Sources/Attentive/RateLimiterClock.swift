import Foundation

/// The time source of a ``RateLimiter``: a monotonic reading and a way to wait. Injectable so the
/// limiter can be tested deterministically with a manual clock that never really sleeps.
public protocol RateLimiterClock: Sendable {
    /// Monotonic time elapsed since an arbitrary fixed origin.
    func now() -> Duration
    /// Waits for `duration`. May return early if the task is cancelled.
    func sleep(for duration: Duration) async
}

/// The real clock: `ContinuousClock` readings and `Task.sleep`.
public struct ContinuousRateLimiterClock: RateLimiterClock {
    private let origin: ContinuousClock.Instant

    /// Creates a clock whose origin is now.
    public init() {
        origin = ContinuousClock.now
    }

    /// Time since this clock was created.
    public func now() -> Duration {
        ContinuousClock.now - origin
    }

    /// Sleeps with `Task.sleep`; cancellation ends the sleep early (no request is affected).
    public func sleep(for duration: Duration) async {
        guard duration > .zero else { return }
        try? await Task.sleep(for: duration)
    }
}
