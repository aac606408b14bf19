import AttentiveSimulator
import Foundation
import TestSupport
import Testing

@testable import Attentive

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The client against the real simulator over loopback: answers, faults and their outcomes.
@Suite("Simulator integration")
struct SimulatorIntegrationTests {
    @Test func acceptedUpdateIsStoredAndReadBack() async throws {
        try await withSimulator { simulator, client in
            #expect(await client.sendCustomAttributes(sampleUpdate) == .accepted(status: 200, attempts: 1))
            #expect(simulator.profile(email: "ada@example.com")?.attributes == sampleUpdate.properties)
            let readBack = try await client.customAttributes(of: sampleUpdate.user).get()
            #expect(readBack == sampleUpdate.properties)

            let phoneUser = AttentiveUser(email: nil, phone: "+13115552368")
            let byPhone = AttributeUpdate(user: phoneUser, properties: ["referral_code": "PH-1"])
            #expect(await client.sendCustomAttributes(byPhone) == .accepted(status: 200, attempts: 1))
            let readByPhone = try await client.customAttributes(of: phoneUser).get()
            #expect(readByPhone == ["referral_code": "PH-1"])

            let stranger = AttentiveUser(email: "nobody@example.com", phone: nil)
            let unknown = try await client.customAttributes(of: stranger).get()
            #expect(unknown == nil)
            #expect(await client.verifyKey() == .accepted(status: 200, attempts: 1))
        }
    }

    @Test func badIdentityIsRejectedAfterOneAttempt() async throws {
        try await withSimulator({ $0.faults.badIdentities = ["ada@example.com"] }) { simulator, client in
            let outcome = await client.sendCustomAttributes(sampleUpdate)
            guard case .rejected(400, let message, 1) = outcome else {
                Issue.record("expected rejected(400) after 1 attempt, got \(outcome)")
                return
            }
            #expect(message.contains("invalid"))
            #expect(simulator.statistics().requests == 1)
            #expect(simulator.profile(email: "ada@example.com") == nil)
        }
    }

    @Test func malformedPayloadsAreRejectedWithAttentivesMessage() async throws {
        try await withSimulator { simulator, client in
            let badPhone = AttributeUpdate(user: AttentiveUser(email: nil, phone: "555-1234"), properties: ["a": "b"])
            guard case .rejected(400, let phoneMessage, 1) = await client.sendCustomAttributes(badPhone) else {
                Issue.record("a non-E.164 phone must be rejected")
                return
            }
            #expect(phoneMessage.contains("E.164"))

            // The public API only sends strings; an array value (as a buggy caller might build) is a 400.
            let url = try #require(client.requests.url(path: "/v1/attributes/custom"))
            let body = Data(#"{"properties":{"cities":["chicago","new york"]},"user":{"email":"a@b.co"}}"#.utf8)
            let request = client.requests.request(method: "POST", url: url, body: body)
            let outcome = client.outcome(of: await client.executor.execute(request, limiter: nil))
            guard case .rejected(400, let arrayMessage, 1) = outcome else {
                Issue.record("an array value must be rejected, got \(outcome)")
                return
            }
            #expect(arrayMessage.contains("arrays are not supported"))
            #expect(simulator.statistics().requests == 2)
        }
    }

    @Test func wrongKeyHaltsTheClient() async throws {
        try await withSimulator(client: { $0.apiKey = "sk_wrong_key" }) { simulator, client in
            #expect(
                await client.sendCustomAttributes(sampleUpdate) == .unauthorized(status: 401, message: "Unauthorized"))
            #expect(client.isHalted)
            guard case .notSent = await client.sendCustomAttributes(sampleUpdate) else {
                Issue.record("sends after a 401 must not be sent")
                return
            }
            guard case .notSent = await client.verifyKey() else {
                Issue.record("key checks after a 401 must not be sent")
                return
            }
            #expect(simulator.statistics().requests == 1)
        }
    }

    @Test func underScopedKeyIsUnauthorized() async throws {
        try await withSimulator({ $0.forbiddenKeys = ["sk_read_only"] }, client: { $0.apiKey = "sk_read_only" }) {
            _, client in
            #expect(await client.verifyKey() == .unauthorized(status: 403, message: "Access Denied"))
            #expect(client.isHalted)
        }
    }

    @Test func internalErrorsAreRetriedUntilAccepted() async throws {
        try await withSimulator({ $0.faults.internalErrorRate = 0.5 }) { simulator, client in
            // Sent one at a time, so the seeded fault sequence is the same on every run.
            var outcomes: [DeliveryOutcome] = []
            for update in referralUpdates(20) { outcomes.append(await client.sendCustomAttributes(update)) }
            #expect(outcomes.allSatisfy { $0.isAccepted })
            #expect(outcomes.contains { $0.attempts > 1 })
            let retries = outcomes.reduce(0) { $0 + $1.attempts - 1 }
            #expect(client.statistics().retries == retries)
            #expect(simulator.statistics().faultsInjected["internalError"] == retries)
            #expect(simulator.profiles().count == 20)
        }
    }

    @Test func htmlBadGatewayIsRetriedAndSummarised() async throws {
        try await withSimulator({ $0.faults.htmlErrorRate = 1 }, client: { $0.retry.maxAttempts = 3 }) { _, client in
            let outcome = await client.sendCustomAttributes(sampleUpdate)
            #expect(outcome == .gaveUp(lastStatus: 502, lastError: "HTML error page: 502 Bad Gateway", attempts: 3))
        }
        try await withSimulator({ $0.faults.htmlErrorRate = 0.5 }) { _, client in
            var outcomes: [DeliveryOutcome] = []
            for update in referralUpdates(10) { outcomes.append(await client.sendCustomAttributes(update)) }
            #expect(outcomes.allSatisfy { $0.isAccepted })
            #expect(outcomes.contains { $0.attempts > 1 })
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func hangingRequestsTimeOutWithinTheirBound() async throws {
        try await withSimulator(
            {
                $0.faults.timeoutRate = 1
                $0.faults.hangSeconds = 20
            },
            client: {
                $0.requestTimeout = .seconds(1)
                $0.retry.maxAttempts = 2
            }
        ) { _, client in
            let outcome = await client.sendCustomAttributes(sampleUpdate)
            guard case .gaveUp(nil, let message, 2) = outcome else {
                Issue.record("expected gaveUp without status after 2 attempts, got \(outcome)")
                return
            }
            #expect(message.contains("timed out") || message.contains("no complete response"))
            // Both attempts ended by the client's deadline, not by the server's 20 s hang (that would be a
            // connection error): the bound is proven by what happened, not by the test's own wall clock.
            #expect(client.statistics().timeouts == 2)
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func timeoutsAreRetriedUntilAccepted() async throws {
        try await withSimulator(
            {
                $0.faults.timeoutRate = 0.4
                $0.faults.hangSeconds = 20
                $0.seed = 3  // sequential sends: draws 0.11, 0.70, 0.61, 0.07, 0.22, … → four hangs
            },
            client: { $0.requestTimeout = .seconds(1) }
        ) { simulator, client in
            var outcomes: [DeliveryOutcome] = []
            for update in referralUpdates(5) { outcomes.append(await client.sendCustomAttributes(update)) }
            #expect(outcomes.allSatisfy { $0.isAccepted })
            #expect(outcomes.contains { $0.attempts > 1 })
            #expect(client.statistics().timeouts == simulator.statistics().faultsInjected["timeout"])
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func droppedConnectionsAndOddBodiesAreHandled() async throws {
        try await withSimulator(
            {
                $0.faults.dropConnectionRate = 0.3
                $0.faults.unexpectedBodyRate = 0.3
            },
            client: { $0.requestTimeout = .seconds(2) }
        ) { simulator, client in
            var outcomes: [DeliveryOutcome] = []
            for update in referralUpdates(15) { outcomes.append(await client.sendCustomAttributes(update)) }
            #expect(outcomes.allSatisfy { $0.isAccepted })
            // A drop on a fresh connection fails at once (curl 52) and the client retries it; on a reused
            // keep-alive connection libcurl itself sends the request again on a fresh one, once. So the server
            // sees the client's attempts plus libcurl's resends, less any attempt that timed out before reaching
            // it (only on a machine loaded past the 2 s deadline).
            let statistics = client.statistics()
            let drops = simulator.statistics().faultsInjected["dropConnection"] ?? 0
            #expect(drops > 0)
            #expect(statistics.connectionErrors <= drops)
            let received = simulator.statistics().requests
            let resent = drops - statistics.connectionErrors
            #expect(received <= statistics.requestsSent + resent)
            #expect(received >= statistics.requestsSent + resent - statistics.timeouts)
            #expect((simulator.statistics().faultsInjected["unexpectedBody"] ?? 0) > 0)
            #expect(simulator.profiles().count == 15)
        }
    }

    @Test func subSecondTimeoutDoesNotFailFastRequests() async throws {
        // A deadline under a second is kept to the millisecond (URLSession truncated 0.5 to 0, an instant timeout).
        try await withSimulator(client: { $0.requestTimeout = .milliseconds(500) }) { _, client in
            #expect(await client.sendCustomAttributes(sampleUpdate) == .accepted(status: 200, attempts: 1))
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func neverEndingResponseIsBounded() async throws {
        let server = try LoopbackListener(
            .trickle(head: "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n"))
        defer { server.stop() }
        var configuration = AttentiveClientConfiguration(baseURL: server.baseURL, apiKey: testAPIKey)
        configuration.requestTimeout = .milliseconds(1500)
        configuration.retry.maxAttempts = 1
        let client = AttentiveClient(configuration: configuration)
        let outcome = await client.sendCustomAttributes(sampleUpdate)
        guard case .gaveUp(nil, let message, 1) = outcome else {
            Issue.record("expected a timeout, got \(outcome)")
            return
        }
        #expect(message.contains("1.5 seconds"))
        // The server never ends the body: only the client's deadline can have ended the request.
        #expect(client.statistics().timeouts == 1)
    }

    @Test func cancellingTheCallerLetsTheRequestInFlightFinish() async throws {
        try await withSimulator({ $0.latencyMilliseconds = 300 }) { simulator, client in
            let sending = Task { await client.sendCustomAttributes(sampleUpdate) }
            while simulator.statistics().requests == 0 { try await Task.sleep(for: .milliseconds(5)) }
            sending.cancel()
            #expect(await sending.value == .accepted(status: 200, attempts: 1))
            #expect(simulator.profile(email: "ada@example.com") != nil)
        }
    }

    @Test func shutdownLetsInFlightFinishAndStopsNewWork() async throws {
        try await withSimulator({ $0.latencyMilliseconds = 300 }) { simulator, client in
            let sending = Task { await client.sendCustomAttributes(sampleUpdate) }
            while simulator.statistics().requests == 0 { try await Task.sleep(for: .milliseconds(5)) }
            client.beginShutdown()
            #expect(await sending.value == .accepted(status: 200, attempts: 1))
            let later = await client.sendCustomAttributes(referralUpdates(1)[0])
            #expect(later == .notSent(reason: "shutdown has begun"))
            #expect(simulator.statistics().requests == 1)
        }
    }
}
