import Foundation
import Testing

@testable import Attentive

@Suite("RetryPolicy")
struct RetryPolicyTests {
    @Test func defaultsMatchTheDocumentedPolicy() {
        let policy = RetryPolicy.default
        #expect(policy.maxAttempts == 6)
        #expect(policy.baseDelay == .milliseconds(500))
        #expect(policy.maxDelay == .seconds(30))
        #expect(policy.maxTotalRetryTime == .seconds(900))
    }

    @Test func firstAttemptHasNoDelay() {
        let policy = RetryPolicy.default
        #expect(policy.delay(beforeAttempt: 1, randomUnit: 1) == .zero)
        #expect(policy.delay(beforeAttempt: 0, randomUnit: 0.7) == .zero)
    }

    @Test func ceilingDoublesFromBaseDelay() {
        let policy = RetryPolicy(baseDelay: .milliseconds(500), maxDelay: .seconds(30))
        #expect(policy.delayCeiling(beforeAttempt: 2) == .milliseconds(500))
        #expect(policy.delayCeiling(beforeAttempt: 3) == .seconds(1))
        #expect(policy.delayCeiling(beforeAttempt: 4) == .seconds(2))
        #expect(policy.delayCeiling(beforeAttempt: 5) == .seconds(4))
        #expect(policy.delayCeiling(beforeAttempt: 7) == .seconds(16))
    }

    @Test func ceilingIsCappedAtMaxDelayWithoutOverflow() {
        let policy = RetryPolicy(baseDelay: .milliseconds(500), maxDelay: .seconds(30))
        #expect(policy.delayCeiling(beforeAttempt: 8) == .seconds(30))
        #expect(policy.delayCeiling(beforeAttempt: 100) == .seconds(30))
        #expect(policy.delayCeiling(beforeAttempt: Int.max) == .seconds(30))
    }

    @Test(arguments: [0.0, 0.1, 0.25, 0.5, 0.9, 1.0])
    func fullJitterStaysWithinZeroAndTheCeiling(unit: Double) {
        let policy = RetryPolicy.default
        for attempt in 2...12 {
            let delay = policy.delay(beforeAttempt: attempt, randomUnit: unit)
            #expect(delay >= .zero)
            #expect(delay <= policy.delayCeiling(beforeAttempt: attempt))
        }
    }

    @Test func jitterIsUniformOverTheWholeWindow() {
        let policy = RetryPolicy(baseDelay: .seconds(1), maxDelay: .seconds(30))
        #expect(policy.delay(beforeAttempt: 3, randomUnit: 0) == .zero)
        #expect(policy.delay(beforeAttempt: 3, randomUnit: 0.5) == .seconds(1))
        #expect(policy.delay(beforeAttempt: 3, randomUnit: 1) == .seconds(2))
    }

    @Test func outOfRangeRandomUnitsAreClamped() {
        let policy = RetryPolicy.default
        #expect(policy.delay(beforeAttempt: 2, randomUnit: -3) == .zero)
        #expect(policy.delay(beforeAttempt: 2, randomUnit: .nan) == .zero)
        #expect(policy.delay(beforeAttempt: 2, randomUnit: 7) == .milliseconds(500))
    }

    @Test func delayIsPure() {
        let policy = RetryPolicy.default
        #expect(
            policy.delay(beforeAttempt: 4, randomUnit: 0.37) == policy.delay(beforeAttempt: 4, randomUnit: 0.37))
    }

    @Test func clientMakesExactlyMaxAttempts() async {
        let transport = ScriptedTransport([], then: jsonResponse(503, #"{"message":"busy"}"#))
        let client = scriptedClient(transport, fastConfiguration(maxAttempts: 3))
        let outcome = await client.sendCustomAttributes(sampleUpdate)
        #expect(outcome == .gaveUp(lastStatus: 503, lastError: "busy", attempts: 3))
        #expect(transport.requestCount == 3)
        #expect(client.statistics().retries == 2)
    }

    @Test func maxAttemptsBelowOneMeansOneAttempt() async {
        let transport = ScriptedTransport([], then: jsonResponse(500, "{}"))
        let client = scriptedClient(transport, fastConfiguration(maxAttempts: 0))
        let outcome = await client.sendCustomAttributes(sampleUpdate)
        #expect(outcome.attempts == 1)
        #expect(transport.requestCount == 1)
    }

    @Test func spentBudgetStopsRetries() async {
        // Each retry would wait its full ceiling (random fixed at 1): 10 ms, more than the 5 ms budget.
        let transport = ScriptedTransport([], then: jsonResponse(500, #"{"message":"boom"}"#))
        let client = scriptedClient(
            transport, fastConfiguration(maxAttempts: 5, baseDelay: .milliseconds(10), budget: .milliseconds(5)))
        let outcome = await client.sendCustomAttributes(sampleUpdate)
        guard case .gaveUp(let status, let message, let attempts) = outcome else {
            Issue.record("expected gaveUp, got \(outcome)")
            return
        }
        #expect(status == 500)
        #expect(attempts == 1)
        #expect(message.contains("retry time budget spent"))
        #expect(client.statistics().retryBudgetExhaustions == 1)
    }

    @Test func budgetIsSharedAcrossRequests() async {
        // 25 ms budget, each retry costs its 10 ms ceiling: only two retries in total, then none.
        let transport = ScriptedTransport([], then: jsonResponse(500, "{}"))
        let client = scriptedClient(
            transport, fastConfiguration(maxAttempts: 2, baseDelay: .milliseconds(10), budget: .milliseconds(25)))
        var attempts: [Int] = []
        for _ in 0..<4 { attempts.append(await client.sendCustomAttributes(sampleUpdate).attempts) }
        #expect(attempts == [2, 2, 1, 1])
        #expect(client.statistics().retries == 2)
        #expect(client.statistics().retrySleep == .milliseconds(20))
    }
}
