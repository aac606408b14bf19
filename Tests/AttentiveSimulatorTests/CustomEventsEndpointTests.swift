import AttentiveSimulator
import Foundation
import TestSupport
import Testing

/// `POST /v1/events/custom` validates like Attentive's spec and keeps every accepted event, duplicates included.
@Suite struct CustomEventsEndpointTests {
    static func post(_ harness: SimulatorHarness, _ json: String) async throws -> Int {
        try await harness.send("POST", "/v1/events/custom", body: json).status
    }

    @Test func acceptsValidEventsAndKeepsDuplicates() async throws {
        let harness = try SimulatorHarness()
        defer { harness.shutdown() }
        let event = #"""
            {"type":"Sent Okendo Referral","properties":{"Customer Role":"referrer"},"externalEventId":"e1",
             "occurredAt":"2025-01-10T12:00:00.000Z","user":{"email":"ann@example.com"}}
            """#
        #expect(try await Self.post(harness, event) == 200)
        #expect(try await Self.post(harness, event) == 200)
        #expect(harness.simulator.acceptedEvents().count == 2)
        #expect(harness.simulator.acceptedEvents().first?.contains(#""externalEventId":"e1""#) == true)
    }

    @Test(arguments: [
        #"{"user":{"email":"a@example.com"}}"#,
        #"{"type":"X"}"#,
        #"{"type":"X","user":{}}"#,
        #"{"type":"Order (shipped)","user":{"email":"a@example.com"}}"#,
        #"{"type":"A, B","user":{"email":"a@example.com"}}"#,
        #"{"type":"X","properties":{"a|b":"1"},"user":{"email":"a@example.com"}}"#,
        #"{"type":"X","properties":{"a[0]":"1"},"user":{"email":"a@example.com"}}"#,
        #"{"type":"X","user":{"phone":"4155550101"}}"#,
        #"{"type":"X","occurredAt":"2025-01-10 12:00","user":{"email":"a@example.com"}}"#,
        #"{"type":"X","user":{"email":"a@example.com","name":"Ann"}}"#,
        #"not json"#,
    ])
    func refusesWhatTheSpecForbids(_ body: String) async throws {
        let harness = try SimulatorHarness()
        defer { harness.shutdown() }
        #expect(try await Self.post(harness, body) == 400)
        #expect(harness.simulator.acceptedEvents().isEmpty)
    }

    @Test func acceptedThenErrorKeepsTheEventAndAnswers500() async throws {
        let harness = try SimulatorHarness { $0.faults.acceptedThenErrorRate = 1 }
        defer { harness.shutdown() }
        let status = try await Self.post(harness, #"{"type":"X","user":{"email":"a@example.com"}}"#)
        #expect(status == 500)
        #expect(harness.simulator.acceptedEvents().count == 1)
    }
}
