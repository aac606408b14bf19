import AttentiveSimulator
import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite("control endpoints and server behaviour")
struct ControlEndpointTests {
    @Test("/__simulator/accepted matches profiles()")
    func acceptedDump() async throws {
        let harness = try SimulatorHarness()
        defer { harness.shutdown() }
        _ = try await harness.postAttributes(customAttributesBody(email: "z@example.com", properties: #"{"a":"1"}"#))
        _ = try await harness.postAttributes(customAttributesBody(phone: "+13115550100", properties: #"{"b":2}"#))
        _ = try await harness.postAttributes(customAttributesBody(email: "a@example.com", properties: #"{"c":true}"#))
        let response = try await harness.send("GET", "/__simulator/accepted", key: nil)
        #expect(response.status == 200)
        let dumped = try JSONDecoder().decode([SimulatedProfile].self, from: response.body)
        #expect(dumped == harness.simulator.profiles())
        #expect(dumped.map(\.email) == ["a@example.com", "z@example.com", nil])
        #expect(try JSONDecoder().decode([SimulatedProfile].self, from: harness.simulator.acceptedJSON()) == dumped)
    }

    @Test("stats count API requests by status; reset clears profiles and counters")
    func statsAndReset() async throws {
        let harness = try SimulatorHarness()
        defer { harness.shutdown() }
        _ = try await harness.postAttributes(customAttributesBody(email: "s@example.com"))
        _ = try await harness.postAttributes(#"{"properties":{}}"#)
        _ = try await harness.send("GET", "/v1/me", key: "nope")
        let stats = try JSONDecoder().decode(
            SimulatorStatistics.self, from: try await harness.send("GET", "/__simulator/stats", key: nil).body)
        #expect(stats.requests == 3)
        #expect(stats.statusCounts == ["200": 1, "400": 1, "401": 1])
        #expect(stats.acceptedUpdates == 1)
        #expect(stats.peakRequestsPerSecond >= 1)
        #expect(stats == harness.simulator.statistics())

        #expect(try await harness.send("POST", "/__simulator/reset", key: nil).status == 200)
        #expect(harness.simulator.profiles().isEmpty)
        #expect(harness.simulator.statistics() == SimulatorStatistics())
    }

    @Test("POST /__simulator/config swaps faults and limits at run time and keeps the key")
    func runtimeConfiguration() async throws {
        let harness = try SimulatorHarness()
        defer { harness.shutdown() }
        let faulty = try await harness.send(
            "POST", "/__simulator/config", body: #"{"faults":{"internalErrorRate":1},"rateLimitPerSecond":7}"#,
            key: nil)
        #expect(faulty.status == 200)
        #expect(!faulty.text.contains(SimulatorHarness.apiKey))
        let failed = try await harness.postAttributes(customAttributesBody(email: "cfg@example.com"))
        #expect(failed.status == 500)
        #expect(failed.header("x-ratelimit-limit") == "7")
        #expect(harness.simulator.configuration.apiKey == SimulatorHarness.apiKey)

        #expect(try await harness.send("POST", "/__simulator/config", body: "{}", key: nil).status == 200)
        #expect(try await harness.postAttributes(customAttributesBody(email: "cfg@example.com")).status == 200)
        #expect(try await harness.send("POST", "/__simulator/config", body: "[", key: nil).status == 400)

        var configuration = harness.simulator.configuration
        configuration.forbiddenKeys = [SimulatorHarness.apiKey]
        harness.simulator.update(configuration: configuration)
        #expect(try await harness.send("GET", "/v1/me").status == 403)
    }

    @Test("many concurrent keep-alive requests are all served")
    func concurrency() async throws {
        let harness = try SimulatorHarness()
        defer { harness.shutdown() }
        let count = 200
        // Child tasks never throw, so the group never cancels a task awaiting URLSession (corelibs #5412).
        let statuses = await withTaskGroup(of: Int.self) { group in
            for index in 0..<count {
                group.addTask {
                    let body = customAttributesBody(email: "k\(index)@example.com")
                    return (try? await harness.postAttributes(body).status) ?? -1
                }
            }
            return await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses == Array(repeating: 200, count: count))
        #expect(harness.simulator.profiles().count == count)
        #expect(harness.simulator.statistics().acceptedUpdates == count)
    }

    @Test("chunked request bodies are accepted")
    func chunkedBody() async throws {
        let harness = try SimulatorHarness()
        defer { harness.shutdown() }
        let url = try #require(URL(string: harness.simulator.baseURL.absoluteString + "/v1/attributes/custom"))
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("Bearer \(SimulatorHarness.apiKey)", forHTTPHeaderField: "Authorization")
        request.setValue("chunked", forHTTPHeaderField: "Transfer-Encoding")
        request.httpBodyStream = InputStream(data: Data(customAttributesBody(email: "chunk@example.com").utf8))
        #expect(try await harness.send(request).status == 200)
        #expect(harness.simulator.profile(email: "chunk@example.com") != nil)
    }

    @Test("start reports a taken port; stop is idempotent and the port can be reused")
    func lifecycle() async throws {
        let first = AttentiveSimulator(configuration: SimulatorConfiguration(apiKey: "k"))
        try first.start()
        #expect(first.port != 0)
        #expect(first.baseURL.absoluteString == "http://127.0.0.1:\(first.port)")
        #expect(throws: SimulatorError.alreadyRunning) { try first.start() }
        var taken = SimulatorConfiguration(apiKey: "k")
        taken.port = first.port
        let second = AttentiveSimulator(configuration: taken)
        #expect(throws: SimulatorError.portInUse(first.port)) { try second.start() }
        first.stop()
        first.stop()
        #expect(!first.isRunning)
        try second.start()
        #expect(second.port == first.port)
        second.stop()
    }

    @Test("unknown paths are 404 and wrong methods 405")
    func routing() async throws {
        let harness = try SimulatorHarness()
        defer { harness.shutdown() }
        #expect(try await harness.send("GET", "/v1/nothing").status == 404)
        #expect(try await harness.send("DELETE", "/v1/attributes/custom").status == 405)
        #expect(try await harness.send("GET", "/__simulator/nothing", key: nil).status == 404)
    }
}
