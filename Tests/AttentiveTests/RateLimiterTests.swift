import Foundation
import Testing

@testable import Attentive

@Suite("RateLimiter")
struct RateLimiterTests {
    /// Acquires `count` grants one after another; the manual clock advances by each wait.
    private func grantTimes(_ limiter: RateLimiter, clock: ManualClock, count: Int) async -> [Duration] {
        var times: [Duration] = []
        for _ in 0..<count {
            await limiter.acquire()
            times.append(clock.now())
        }
        return times
    }

    /// The most grants inside any half-open window of length `window`.
    private func busiestWindow(_ times: [Duration], window: Duration = .seconds(1)) -> Int {
        var best = 0
        var start = 0
        for end in times.indices {
            while times[end] - times[start] >= window { start += 1 }
            best = max(best, end - start + 1)
        }
        return best
    }

    @Test(arguments: [(20.0, 1), (150.0, 3), (100.0, 2), (7.5, 1)])
    func neverGrantsMoreThanRatePlusBurstPerWindow(rate: Double, expectedBurst: Int) async {
        let clock = ManualClock()
        let limiter = RateLimiter(requestsPerSecond: rate, clock: clock)
        #expect(limiter.burst == expectedBurst)
        let times = await grantTimes(limiter, clock: clock, count: Int(rate * 5))
        #expect(busiestWindow(times) <= Int(rate.rounded(.up)) + limiter.burst)
        // Sustained pace: the grants span about count / rate seconds.
        let span = (times.last ?? .zero) - (times.first ?? .zero)
        #expect(span >= .seconds((Double(times.count - limiter.burst) / rate) * 0.99))
    }

    @Test func burstIsGrantedAtOnceThenPaced() async {
        let clock = ManualClock()
        let limiter = RateLimiter(requestsPerSecond: 10, burst: 3, clock: clock)
        var waits: [Duration] = []
        for _ in 0..<6 { waits.append(await limiter.reserve()) }
        #expect(waits == [.zero, .zero, .zero, .milliseconds(100), .milliseconds(200), .milliseconds(300)])
    }

    @Test func concurrentCallersGetDistinctSlots() async {
        let clock = ManualClock()
        let limiter = RateLimiter(requestsPerSecond: 50, burst: 1, clock: clock)
        let waits = await withTaskGroup(of: Duration.self) { group in
            for _ in 0..<25 { group.addTask { await limiter.reserve() } }
            var all: [Duration] = []
            for await wait in group { all.append(wait) }
            return all.sorted()
        }
        #expect(waits == (0..<25).map { Duration.milliseconds(20 * $0) })
    }

    @Test func remainingZeroHoldsUntilTheWindowRefills() async {
        let clock = ManualClock()
        let limiter = RateLimiter(requestsPerSecond: 100, clock: clock)
        await limiter.acquire()
        clock.advance(by: .milliseconds(300))
        await limiter.record(RateLimitFeedback(status: 200, limit: 100, remaining: 0))
        let wait = await limiter.reserve()
        #expect(wait >= .seconds(1))
        #expect(wait <= .milliseconds(1100))
    }

    @Test func positiveRemainingDoesNotHold() async {
        let clock = ManualClock()
        let limiter = RateLimiter(requestsPerSecond: 100, clock: clock)
        await limiter.record(RateLimitFeedback(status: 200, limit: 150, remaining: 3))
        #expect(await limiter.reserve() == .zero)
    }

    @Test func tooManyRequestsHoldsTheBucketAndSlowsThePace() async {
        let clock = ManualClock()
        let limiter = RateLimiter(requestsPerSecond: 100, clock: clock)
        await limiter.record(RateLimitFeedback(status: 429, limit: nil, remaining: 0))
        let wait = await limiter.reserve()
        #expect(wait >= .milliseconds(100))
        #expect(wait < .seconds(1))
        let slowed = await limiter.currentRate
        #expect(slowed < 100)
        #expect(slowed >= 50)
    }

    @Test func repeatedTooManyRequestsHoldLongerButAtMostAWindow() async {
        let clock = ManualClock()
        let limiter = RateLimiter(requestsPerSecond: 100, clock: clock)
        var holds: [Duration] = []
        for _ in 0..<6 {
            await limiter.record(RateLimitFeedback(status: 429))
            let wait = await limiter.reserve()
            holds.append(wait)
            clock.advance(by: wait)
        }
        #expect(holds.first.map { $0 >= .milliseconds(100) } == true)
        #expect(holds[1] > holds[0])
        #expect(holds.allSatisfy { $0 <= .seconds(1) })
    }

    @Test func paceRecoversAfterThrottlingStops() async {
        let clock = ManualClock()
        let limiter = RateLimiter(requestsPerSecond: 100, clock: clock)
        await limiter.record(RateLimitFeedback(status: 429))
        #expect(await limiter.currentRate < 100)
        clock.advance(by: .seconds(30))
        #expect(await limiter.currentRate == 100)
    }

    @Test func retryAfterIsHonoured() async {
        let clock = ManualClock()
        let limiter = RateLimiter(requestsPerSecond: 100, clock: clock)
        await limiter.record(RateLimitFeedback(status: 429, retryAfter: .seconds(3)))
        let wait = await limiter.reserve()
        #expect(wait >= .seconds(3))
        #expect(wait < .milliseconds(3100))
    }

    @Test func lowerAdvertisedLimitLowersThePace() async {
        let clock = ManualClock()
        let limiter = RateLimiter(requestsPerSecond: 150, clock: clock)
        await limiter.record(RateLimitFeedback(status: 200, limit: 20, remaining: 19))
        let rate = await limiter.currentRate
        #expect(rate < 20)
        #expect(rate >= 18)
        let times = await grantTimes(limiter, clock: clock, count: 100)
        #expect(busiestWindow(times) < 20)
    }

    @Test func higherAdvertisedLimitNeverRaisesThePace() async {
        let clock = ManualClock()
        let limiter = RateLimiter(requestsPerSecond: 20, clock: clock)
        await limiter.record(RateLimitFeedback(status: 200, limit: 1000, remaining: 999))
        #expect(await limiter.currentRate == 20)
    }

    @Test func advertisedLimitLeavesHeadroomAtTheDocumentedRate() async {
        let clock = ManualClock()
        let limiter = RateLimiter(requestsPerSecond: 150, clock: clock)
        await limiter.record(RateLimitFeedback(status: 200, limit: 150, remaining: 140))
        let rate = await limiter.currentRate
        #expect(rate >= 0.95 * 150)
        let times = await grantTimes(limiter, clock: clock, count: 600)
        #expect(busiestWindow(times) < 150)
    }

    @Test func invalidRatesAreSanitised() async {
        #expect(RateLimiter(requestsPerSecond: 0).configuredRate == 1)
        #expect(RateLimiter(requestsPerSecond: -5).configuredRate == 1)
        #expect(RateLimiter(requestsPerSecond: .nan).configuredRate == 1)
        #expect(RateLimiter(requestsPerSecond: .infinity).configuredRate == 1_000_000)
    }

    @Test func feedbackParsesHeadersCaseInsensitively() {
        let feedback = RateLimitFeedback(
            status: 429,
            headers: ["X-RateLimit-Limit": "150", "X-RATELIMIT-REMAINING": "0", "Retry-After": "2"]
        )
        #expect(feedback == RateLimitFeedback(status: 429, limit: 150, remaining: 0, retryAfter: .seconds(2)))
    }

    @Test func retryAfterAcceptsAnHTTPDate() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let later = "Tue, 14 Nov 2023 22:13:30 GMT"  // now + 10 s
        let feedback = RateLimitFeedback(status: 503, headers: ["Retry-After": later], now: now)
        #expect(feedback.retryAfter == .seconds(10))
        #expect(RateLimitFeedback(status: 429, headers: ["Retry-After": "soon"]).retryAfter == nil)
    }
}
