import Foundation
import Synchronization

/// The rate-limit headers of one answer, and whether the request was admitted.
struct RateLimitDecision: Sendable, Equatable {
    var admitted: Bool
    var limit: Int
    var remaining: Int

    /// `x-ratelimit-limit` and `x-ratelimit-remaining`, as the real API sends them.
    var headers: [(name: String, value: String)] {
        [("x-ratelimit-limit", String(limit)), ("x-ratelimit-remaining", String(remaining))]
    }
}

/// Fixed 1-second windows per (endpoint, API key): within one whole second of the monotonic clock at most `limit`
/// requests are admitted, the rest get 429; the count restarts at the next whole second. This guarantees that no
/// window admits more than the limit (a client pacing itself with a token bucket of burst ≤ limit and refill of
/// `limit`/s can still see occasional 429s at window edges, as with a real server).
final class FixedWindowLimiter: Sendable {
    /// The limit reported when no limit is configured (nothing is ever refused at that rate).
    static let unlimited = 1_000_000

    private struct Window {
        var second: UInt64
        var count: Int
    }

    private struct State {
        var windows: [String: Window] = [:]
        var peakAdmitted = 0
    }

    private let state = Mutex(State())

    /// Counts a request for `endpoint` by `key` against `limit` (nil = unlimited) in the current window.
    func admit(endpoint: String, key: String, limit: Int?, second: UInt64 = MonotonicClock.secondIndex())
        -> RateLimitDecision
    {
        let effective = max(0, limit ?? FixedWindowLimiter.unlimited)
        let bucket = endpoint + "\u{0}" + key
        return state.withLock { state in
            var window = state.windows[bucket] ?? Window(second: second, count: 0)
            if window.second != second { window = Window(second: second, count: 0) }
            guard window.count < effective else {
                state.windows[bucket] = window
                return RateLimitDecision(admitted: false, limit: effective, remaining: 0)
            }
            window.count += 1
            state.windows[bucket] = window
            state.peakAdmitted = max(state.peakAdmitted, window.count)
            return RateLimitDecision(admitted: true, limit: effective, remaining: effective - window.count)
        }
    }

    /// The headers for a request that is not counted (for example one refused for authentication).
    func peek(endpoint: String, key: String, limit: Int?, second: UInt64 = MonotonicClock.secondIndex())
        -> RateLimitDecision
    {
        let effective = max(0, limit ?? FixedWindowLimiter.unlimited)
        let bucket = endpoint + "\u{0}" + key
        let used = state.withLock { state -> Int in
            guard let window = state.windows[bucket], window.second == second else { return 0 }
            return window.count
        }
        return RateLimitDecision(admitted: true, limit: effective, remaining: max(0, effective - used))
    }

    /// The largest number of requests admitted in one window for one endpoint and key.
    var peakAdmitted: Int {
        state.withLock { $0.peakAdmitted }
    }

    /// Forgets all windows and the peak.
    func reset() {
        state.withLock { $0 = State() }
    }
}
