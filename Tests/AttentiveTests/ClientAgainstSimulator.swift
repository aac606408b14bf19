import AttentiveSimulator
import Foundation
import TestSupport
import Testing

@testable import Attentive

/// Starts a simulator (``SimulatorHarness``, bulk jobs completing after 50 ms), runs `body` with it and a client
/// pointed at it, and stops it afterwards. Retries are fast (5–50 ms) so fault tests stay quick.
func withSimulator<T>(
    _ configureSimulator: (inout SimulatorConfiguration) -> Void = { _ in },
    client configureClient: (inout AttentiveClientConfiguration) -> Void = { _ in },
    _ body: (AttentiveSimulator, AttentiveClient) async throws -> T
) async throws -> T {
    let harness = try SimulatorHarness(apiKey: testAPIKey) { configuration in
        configuration.bulkCompletionDelayMilliseconds = 50
        configureSimulator(&configuration)
    }
    defer { harness.shutdown() }
    let simulator = harness.simulator
    var configuration = AttentiveClientConfiguration(baseURL: simulator.baseURL, apiKey: testAPIKey)
    configuration.requestTimeout = .seconds(5)
    configuration.retry = RetryPolicy(
        maxAttempts: 8, baseDelay: .milliseconds(5), maxDelay: .milliseconds(50), maxTotalRetryTime: .seconds(60))
    configureClient(&configuration)
    let client = AttentiveClient(configuration: configuration)
    return try await body(simulator, client)
}

/// Sends `updates` with at most `concurrency` in flight, as the job does, and returns the outcomes
/// in input order.
func sendAll(_ updates: [AttributeUpdate], with client: AttentiveClient, concurrency: Int) async -> [DeliveryOutcome] {
    await withTaskGroup(of: (Int, DeliveryOutcome).self) { group in
        var outcomes = [DeliveryOutcome?](repeating: nil, count: updates.count)
        var next = 0
        func addNext() {
            guard next < updates.count else { return }
            let index = next
            let update = updates[index]
            group.addTask { (index, await client.sendCustomAttributes(update)) }
            next += 1
        }
        for _ in 0..<concurrency { addNext() }
        while let (index, outcome) = await group.next() {
            outcomes[index] = outcome
            addNext()
        }
        return outcomes.map { $0 ?? .notSent(reason: "missing") }
    }
}

/// `count` distinct updates, `user<i>@example.com` with a referral code each.
func referralUpdates(_ count: Int, prefix: String = "user") -> [AttributeUpdate] {
    (0..<count).map { index in
        AttributeUpdate(
            user: AttentiveUser(email: "\(prefix)\(index)@example.com", phone: nil),
            properties: ["referral_code": "CODE-\(index)", "referral_count": String(index % 7)]
        )
    }
}
