import AttentiveSimulator
import Foundation
import TestSupport
import Testing

@Suite("fault injection")
struct FaultInjectionTests {
    static let body = customAttributesBody(email: "fault@example.com", properties: #"{"tier":"gold"}"#)

    @Test("500 with a JSON body, store unchanged")
    func internalError() async throws {
        let harness = try SimulatorHarness { $0.faults.internalErrorRate = 1 }
        defer { harness.shutdown() }
        let response = try await harness.postAttributes(Self.body)
        #expect(response.status == 500)
        #expect(try response.jsonObject()["message"] is String)
        #expect(response.header("x-ratelimit-limit") != nil)
        #expect(harness.simulator.profiles().isEmpty)
        #expect(harness.simulator.statistics().faultsInjected["internalError"] == 1)
    }

    @Test("502 with an HTML page, store unchanged")
    func htmlError() async throws {
        let harness = try SimulatorHarness { $0.faults.htmlErrorRate = 1 }
        defer { harness.shutdown() }
        let response = try await harness.postAttributes(Self.body)
        #expect(response.status == 502)
        #expect(response.header("Content-Type")?.hasPrefix("text/html") == true)
        #expect(response.text.contains("<html>"))
        #expect(harness.simulator.profiles().isEmpty)
        #expect(harness.simulator.statistics().faultsInjected["htmlError"] == 1)
    }

    @Test("spurious 429 with rate-limit headers, store unchanged")
    func tooManyRequests() async throws {
        let harness = try SimulatorHarness { $0.faults.tooManyRequestsRate = 1 }
        defer { harness.shutdown() }
        let response = try await harness.postAttributes(Self.body)
        #expect(response.status == 429)
        #expect(response.header("x-ratelimit-limit") != nil)
        #expect(response.header("x-ratelimit-remaining") != nil)
        #expect(response.header("Retry-After") == nil)
        #expect(harness.simulator.profiles().isEmpty)
        let statistics = harness.simulator.statistics()
        #expect(statistics.faultsInjected["tooManyRequests"] == 1)
        #expect(statistics.tooManyRequests == 1)
        #expect(statistics.rateLimited == 0)
    }

    @Test("a hung request makes the client time out, store unchanged")
    func timeout() async throws {
        let harness = try SimulatorHarness {
            $0.faults.timeoutRate = 1
            $0.faults.hangSeconds = 20
        }
        defer { harness.shutdown() }
        await #expect(throws: (any Error).self) {
            _ = try await harness.send("POST", "/v1/attributes/custom", body: Self.body, timeout: 1)
        }
        #expect(harness.simulator.profiles().isEmpty)
        #expect((harness.simulator.statistics().faultsInjected["timeout"] ?? 0) >= 1)
    }

    @Test("a hung request is closed after hangSeconds")
    func hangEnds() async throws {
        let harness = try SimulatorHarness {
            $0.faults.timeoutRate = 1
            $0.faults.hangSeconds = 1
        }
        defer { harness.shutdown() }
        await #expect(throws: (any Error).self) {
            _ = try await harness.send("POST", "/v1/attributes/custom", body: Self.body, timeout: 25)
        }
        #expect(harness.simulator.profiles().isEmpty)
    }

    @Test("a dropped connection is an error for the client, store unchanged")
    func dropConnection() async throws {
        let harness = try SimulatorHarness { $0.faults.dropConnectionRate = 1 }
        defer { harness.shutdown() }
        await #expect(throws: (any Error).self) {
            _ = try await harness.postAttributes(Self.body)
        }
        #expect(harness.simulator.profiles().isEmpty)
        #expect((harness.simulator.statistics().faultsInjected["dropConnection"] ?? 0) >= 1)
    }

    @Test("an unexpected body still means the values were accepted")
    func unexpectedBody() async throws {
        let harness = try SimulatorHarness { $0.faults.unexpectedBodyRate = 1 }
        defer { harness.shutdown() }
        let response = try await harness.postAttributes(Self.body)
        #expect(response.status == 200)
        #expect((try? JSONSerialization.jsonObject(with: response.body)) == nil)
        #expect(harness.simulator.profile(email: "fault@example.com")?.attributes == ["tier": "gold"])
        #expect(harness.simulator.statistics().faultsInjected["unexpectedBody"] == 1)
    }

    @Test("a bad identity gets 400 while others pass")
    func badIdentity() async throws {
        let harness = try SimulatorHarness { $0.faults.badIdentities = ["fault@example.com", "+13115559999"] }
        defer { harness.shutdown() }
        let bad = try await harness.postAttributes(Self.body)
        #expect(bad.status == 400)
        #expect(try bad.jsonObject()["message"] is String)
        #expect(try await harness.postAttributes(customAttributesBody(phone: "+13115559999")).status == 400)
        #expect(try await harness.postAttributes(customAttributesBody(email: "good@example.com")).status == 200)
        #expect(harness.simulator.profiles().map(\.email) == ["good@example.com"])
        #expect(harness.simulator.statistics().faultsInjected["badIdentity"] == 2)
    }

    @Test("a foreign event type gets a JSON 403 while the key still works and other types are kept")
    func foreignEventType() async throws {
        let harness = try SimulatorHarness { $0.faults.foreignEventTypes = ["Sent Okendo Referral"] }
        defer { harness.shutdown() }
        func event(_ type: String) -> String {
            #"{"type":"\#(type)","externalEventId":"e1","user":{"email":"ann@example.com"}}"#
        }
        let refused = try await harness.send("POST", "/v1/events/custom", body: event("Sent Okendo Referral"))
        #expect(refused.status == 403)
        let message = try #require(try refused.jsonObject()["message"] as? String)
        #expect(message.contains("same custom app that originally created them"))
        #expect(try await harness.send("GET", "/v1/me").status == 200)
        #expect(try await harness.send("POST", "/v1/events/custom", body: event("Referral Sent")).status == 200)
        #expect(harness.simulator.acceptedEvents().count == 1)
        #expect(harness.simulator.statistics().faultsInjected["foreignEventType"] == 1)
        // Settable through the control endpoint like every fault.
        let changed = try await harness.send(
            "POST", "/__simulator/config", body: #"{"faults":{"foreignEventTypes":["Referral Sent"]}}"#, key: nil)
        #expect(changed.status == 200)
        #expect(try await harness.send("POST", "/v1/events/custom", body: event("Sent Okendo Referral")).status == 200)
        #expect(try await harness.send("POST", "/v1/events/custom", body: event("Referral Sent")).status == 403)
    }

    @Test("latency delays the answer; control endpoints are never faulted")
    func latencyAndControl() async throws {
        let harness = try SimulatorHarness {
            $0.latencyMilliseconds = 200
            $0.latencyJitterMilliseconds = 50
            $0.faults.internalErrorRate = 1
        }
        defer { harness.shutdown() }
        let started = Date()
        #expect(try await harness.send("GET", "/v1/me").status == 500)
        #expect(Date().timeIntervalSince(started) >= 0.19)
        #expect(try await harness.send("GET", "/__simulator/stats", key: nil).status == 200)
    }

    @Test("a 50% mix is reproducible for a seed")
    func seededMix() async throws {
        func run() async throws -> [Int] {
            let harness = try SimulatorHarness {
                $0.faults.internalErrorRate = 0.5
                $0.seed = 42
            }
            defer { harness.shutdown() }
            var statuses: [Int] = []
            for _ in 0..<40 { statuses.append(try await harness.send("GET", "/v1/me").status) }
            return statuses
        }
        let first = try await run()
        #expect(try await run() == first)
        let failures = first.filter { $0 == 500 }.count
        #expect((8...32).contains(failures))
    }
}
