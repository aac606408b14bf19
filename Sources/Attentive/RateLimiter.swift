import Foundation

/// Paces requests to one Attentive endpoint: a token bucket (GCRA scheduling) at a configured rate
/// with a small burst, which adapts to what responses report.
///
/// - `x-ratelimit-limit` lower than the configured rate lowers the pace to just under it (97% of
///   the limit and at least one request per window below it), so network jitter does not push a
///   window over the limit.
/// - `x-ratelimit-remaining: 0` holds every grant for one window, until the server's window has
///   refilled.
/// - A 429 holds the whole bucket briefly (0.1 window, doubling on repeated 429s up to one window)
///   and cuts the pace by 20%; the pace recovers linearly (10% of the ceiling per second) once a
///   window passes without 429s.
/// - `Retry-After`, when present, holds the bucket for that long (at most 60 s).
///
/// Concurrent callers each get their own future slot, so there is no thundering herd when a hold
/// ends. The time source is injectable (``RateLimiterClock``) for deterministic tests.
public actor RateLimiter {
    /// The rate requested at creation, in requests per second.
    public nonisolated let configuredRate: Double
    /// Grants that may be issued back to back after an idle period (fewer if a lower advertised
    /// limit is adopted).
    public nonisolated let burst: Int
    /// The server's rate-limit window (Attentive counts per second).
    public nonisolated let window: Duration

    /// Fraction of the server's advertised limit the limiter paces at.
    static let headroom = 0.97
    /// Factor applied to the pace on a 429.
    static let decreaseFactor = 0.8
    /// Pace regained per second after a 429, as a fraction of the ceiling.
    static let recoveryPerSecond = 0.1
    /// Longest hold a `Retry-After` can impose.
    static let maxHold: Duration = .seconds(60)

    private let clock: any RateLimiterClock
    private let minimumRate: Double
    private var ceiling: Double
    private var reducedRate: Double?
    private var reducedAt: Duration = .zero
    private var lastDecreaseAt: Duration?
    private var lastThrottleAt: Duration?
    private var strikes = 0
    private var activeBurst: Int
    private var theoreticalArrival: Duration?
    private var holdUntil: Duration?

    /// Creates a limiter.
    /// - Parameters:
    ///   - requestsPerSecond: the pace; values that are not positive and finite become 1/s
    ///     (infinity becomes 1,000,000/s).
    ///   - burst: grants allowed back to back after idling; default `rate / 50` clamped to 1...10.
    ///   - window: the server's counting window.
    ///   - clock: the time source.
    public init(
        requestsPerSecond: Double,
        burst: Int? = nil,
        window: Duration = .seconds(1),
        clock: any RateLimiterClock = ContinuousRateLimiterClock()
    ) {
        let rate: Double
        if requestsPerSecond == .infinity {
            rate = 1_000_000
        } else if requestsPerSecond.isFinite, requestsPerSecond > 0 {
            rate = min(requestsPerSecond, 1_000_000)
        } else {
            rate = 1
        }
        configuredRate = rate
        self.burst = max(1, burst ?? Self.defaultBurst(rate))
        activeBurst = self.burst
        self.window = window > .zero ? window : .seconds(1)
        self.clock = clock
        ceiling = rate
        minimumRate = min(rate, max(0.5, rate * 0.05))
    }

    /// The pace now, in requests per second (below ``configuredRate`` after 429s or a lower
    /// advertised limit).
    public var currentRate: Double {
        rate(at: clock.now())
    }

    /// Waits until this caller may send one request.
    ///
    /// If a hold begins while the caller waits and covers its slot, the caller queues again behind
    /// the hold. Cancellation ends the wait early.
    public func acquire() async {
        while true {
            let grant = reserveSlot()
            let wait = grant - clock.now()
            if wait > .zero { await clock.sleep(for: wait) }
            if Task.isCancelled { return }
            guard let holdUntil, holdUntil > grant else { return }
        }
    }

    /// Books the next slot and returns how long the caller must wait before using it
    /// (zero when it may send now). ``acquire()`` is this plus the wait.
    @discardableResult
    public func reserve() -> Duration {
        let now = clock.now()
        return max(.zero, reserveSlot() - now)
    }

    /// Adapts to a response: its `x-ratelimit-limit`, `x-ratelimit-remaining`, 429 status and
    /// `Retry-After`.
    public func record(_ feedback: RateLimitFeedback) {
        let now = clock.now()
        if let limit = feedback.limit, limit > 0 { adopt(limit: limit) }
        if let retryAfter = feedback.retryAfter, retryAfter > .zero {
            hold(until: now + min(retryAfter, Self.maxHold))
        }
        if feedback.status == 429 {
            throttled(at: now, honouredRetryAfter: feedback.retryAfter != nil)
        } else if let remaining = feedback.remaining, remaining <= 0 {
            let refill = now + window
            if (holdUntil ?? .zero) < now + window / 2 { hold(until: refill) }
        }
    }

    private static func defaultBurst(_ rate: Double) -> Int {
        max(1, min(10, Int(rate / 50)))
    }

    private func reserveSlot() -> Duration {
        let now = clock.now()
        let pace = rate(at: now)
        if reducedRate != nil, pace >= ceiling { reducedRate = nil }
        let interval = Duration.clampedSeconds(1 / pace)
        let tolerance = interval * (activeBurst - 1)
        var grant = now
        if let theoreticalArrival { grant = max(grant, theoreticalArrival - tolerance) }
        if let holdUntil { grant = max(grant, holdUntil) }
        theoreticalArrival = max(theoreticalArrival ?? grant, grant) + interval
        return grant
    }

    private func rate(at now: Duration) -> Double {
        guard let reducedRate else { return ceiling }
        let recovering = max(0, (now - reducedAt - window).inSeconds)
        return min(ceiling, reducedRate + ceiling * Self.recoveryPerSecond * recovering)
    }

    private func adopt(limit: Int) {
        let advertised = Double(limit)
        activeBurst = min(burst, Self.defaultBurst(advertised))
        let paced = max(advertised * 0.5, min(advertised * Self.headroom, advertised - Double(activeBurst) - 0.5))
        ceiling = max(min(configuredRate, paced), min(minimumRate, paced))
    }

    private func throttled(at now: Duration, honouredRetryAfter: Bool) {
        if let lastThrottleAt, now - lastThrottleAt < window * 2 {
            strikes += 1
        } else {
            strikes = 1
        }
        lastThrottleAt = now
        if !honouredRetryAfter {
            let pause = min(window, window / 10 * (1 << min(strikes - 1, 10)))
            hold(until: now + pause)
        }
        if lastDecreaseAt.map({ now - $0 >= window / 2 }) ?? true {
            reducedRate = max(min(minimumRate, ceiling), rate(at: now) * Self.decreaseFactor)
            reducedAt = now
            lastDecreaseAt = now
        }
    }

    /// No grant before `instant`; the first grant after it starts a fresh, burst-free schedule.
    private func hold(until instant: Duration) {
        if let holdUntil, instant <= holdUntil { return }
        holdUntil = instant
        let interval = Duration.clampedSeconds(1 / rate(at: clock.now()))
        let tolerance = interval * (activeBurst - 1)
        theoreticalArrival = max(theoreticalArrival ?? instant, instant + tolerance)
    }
}
