import AttentiveSimulator
import Foundation
import TestSupport
import Testing

/// The answers a client must survive: other 2xx statuses, odd error text, and a body that never ends.
@Suite("response shapes")
struct ResponseShapeTests {
    static let body = customAttributesBody(email: "shape@example.com", properties: #"{"tier":"gold"}"#)

    @Test("an accepted update can be answered 202 or 204 (no body) and is stored", arguments: [202, 204])
    func otherSuccessStatus(_ status: Int) async throws {
        let harness = try SimulatorHarness { $0.successStatus = status }
        defer { harness.shutdown() }
        let response = try await harness.postAttributes(Self.body)
        #expect(response.status == status)
        #expect(response.body.isEmpty)
        #expect(harness.simulator.profile(email: "shape@example.com")?.attributes["tier"] == "gold")
    }

    @Test("a bad identity can be refused with any message, control characters included")
    func rejectionMessage() async throws {
        let harness = try SimulatorHarness {
            $0.faults.badIdentities = ["shape@example.com"]
            $0.faults.rejectionMessage = "bad\u{0}user"
        }
        defer { harness.shutdown() }
        let response = try await harness.postAttributes(Self.body)
        #expect(response.status == 400)
        #expect(try response.jsonObject()["message"] as? String == "bad\u{0}user")
        #expect(harness.simulator.profiles().isEmpty)
    }

    @Test("an endless answer sends a 200 head and chunks until the hang time, and stores nothing")
    func endlessBody() async throws {
        let harness = try SimulatorHarness {
            $0.faults.endlessBodyRate = 1
            $0.faults.hangSeconds = 1
        }
        defer { harness.shutdown() }
        let request =
            "POST /v1/attributes/custom HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(SimulatorHarness.apiKey)\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(Self.body.utf8.count)\r\n\r\n\(Self.body)"
        // The simulator closes after hangSeconds; the window is long only so a loaded machine cannot fail the test.
        let (received, closed) = try await LoopbackSocket.exchangeOnOwnThread(
            port: harness.simulator.port, request: Array(request.utf8), seconds: 60)
        let text = String(decoding: received, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(text.contains("Transfer-Encoding: chunked"))
        #expect(text.contains("1\r\n \r\n"))
        #expect(!text.contains("0\r\n\r\n"), "the last chunk is never sent")
        #expect(closed, "the server gives up after hangSeconds")
        #expect(harness.simulator.profiles().isEmpty)
        #expect(harness.simulator.statistics().faultsInjected["endlessBody"] == 1)
    }
}
