import AttentiveSimulator
import Foundation
import TestSupport
import Testing

@Suite("authentication and rate limits")
struct AuthAndRateLimitTests {
    @Test("wrong or missing key is 401, a forbidden key is 403, and nothing is stored")
    func authentication() async throws {
        let harness = try SimulatorHarness { $0.forbiddenKeys = ["read-only-key"] }
        defer { harness.shutdown() }
        let body = customAttributesBody(email: "auth@example.com")
        let wrong = try await harness.postAttributes(body, key: "wrong-key")
        #expect(wrong.status == 401)
        #expect(try wrong.jsonObject()["message"] is String)
        #expect(try await harness.postAttributes(body, key: nil).status == 401)
        let forbidden = try await harness.postAttributes(body, key: "read-only-key")
        #expect(forbidden.status == 403)
        for response in [wrong, forbidden] {
            #expect(response.header("x-ratelimit-limit") != nil)
            #expect(response.header("x-ratelimit-remaining") != nil)
        }
        #expect(try await harness.send("GET", "/v1/me", key: "wrong-key").status == 401)
        #expect(try await harness.send("GET", "/v2/bulk/job/x", key: nil).status == 401)
        #expect(harness.simulator.profiles().isEmpty)
    }

    @Test("over the limit answers 429; no window admits more than the limit")
    func rateLimit() async throws {
        let limit = 5
        let harness = try SimulatorHarness {
            $0.rateLimitPerSecond = limit
            $0.retryAfterSeconds = 2
        }
        defer { harness.shutdown() }
        var accepted = 0
        var limited = 0
        // Back-to-back requests until one is refused: on a starved machine a request may take over a second, so
        // a fixed count could fall into distinct windows; at most 60 windows' worth.
        for index in 0..<(limit * 60) where limited == 0 || index < limit * 6 {
            let response = try await harness.postAttributes(customAttributesBody(email: "r\(index)@example.com"))
            #expect(response.header("x-ratelimit-limit") == String(limit))
            let remaining = try #require(response.header("x-ratelimit-remaining").flatMap { Int($0) })
            #expect((0..<limit).contains(remaining))
            switch response.status {
            case 200: accepted += 1
            case 429:
                limited += 1
                #expect(remaining == 0)
                #expect(response.header("Retry-After") == "2")
            default: Issue.record("unexpected status \(response.status)")
            }
        }
        #expect(limited > 0)
        let statistics = harness.simulator.statistics()
        #expect(statistics.peakAdmittedPerSecond <= limit)
        #expect(statistics.acceptedUpdates == accepted)
        #expect(statistics.tooManyRequests == limited)
        #expect(statistics.rateLimited == limited)
        #expect(statistics.statusCounts["429"] == limited)
        #expect(harness.simulator.profiles().count == accepted)
    }

    @Test("concurrent requests never push a window past the limit")
    func concurrentRateLimit() async throws {
        let limit = 10
        let harness = try SimulatorHarness { $0.rateLimitPerSecond = limit }
        defer { harness.shutdown() }
        // Child tasks never throw, so the group never cancels a task awaiting URLSession (corelibs #5412).
        let statuses = await withTaskGroup(of: Int.self) { group in
            for index in 0..<60 {
                group.addTask {
                    let body = customAttributesBody(email: "c\(index)@example.com")
                    return (try? await harness.postAttributes(body).status) ?? -1
                }
            }
            return await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(Set(statuses).isSubset(of: [200, 429]))
        #expect(statuses.contains(429))
        let statistics = harness.simulator.statistics()
        #expect(statistics.peakAdmittedPerSecond <= limit)
        #expect(harness.simulator.profiles().count == statuses.filter { $0 == 200 }.count)
    }

    @Test("the bulk limit is separate from the v1 limit; unlimited endpoints still send headers")
    func separateLimits() async throws {
        let harness = try SimulatorHarness {
            $0.rateLimitPerSecond = 1
            $0.bulkRateLimitPerSecond = 1
        }
        defer { harness.shutdown() }
        let body = #"{"users":[{"identifiers":{"email":"s@example.com"},"attributes":{"custom":{"a":"1"}}}]}"#
        // Sent together, so they meet in one one-second window even when the machine is loaded (sent one after
        // another they once took more than a second each). A non-throwing group: no request is ever cancelled.
        let responses = await withTaskGroup(of: TestResponse?.self) { group in
            for _ in 0..<6 {
                group.addTask { try? await harness.send("POST", "/v2/bulk/user/attributes", body: body) }
            }
            var collected: [TestResponse?] = []
            for await response in group { collected.append(response) }
            return collected
        }
        #expect(responses.allSatisfy { $0?.header("x-ratelimit-limit") == "1" })
        let bulkStatuses = responses.compactMap { $0?.status }
        #expect(bulkStatuses.contains(202))
        #expect(bulkStatuses.contains(429))
        // The v1 bucket is untouched by the bulk requests above.
        let first = try await harness.postAttributes(customAttributesBody(email: "s@example.com"))
        #expect(first.header("x-ratelimit-limit") == "1")
        let me = try await harness.send("GET", "/v1/me")
        #expect(me.status == 200)
        #expect(Int(me.header("x-ratelimit-limit") ?? "") ?? 0 >= 1000)
        #expect(me.header("x-ratelimit-remaining") != nil)
    }
}
