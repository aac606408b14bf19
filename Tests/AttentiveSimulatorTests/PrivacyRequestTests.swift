import AttentiveSimulator
import Foundation
import TestSupport
import Testing

/// `POST /v1/privacy/delete-request` and `GET /v1/privacy/delete-request/{id}` as the spec describes them, and the
/// simulator forgetting the subject once a request is processed.
@Suite struct PrivacyRequestTests {
    @Test("a filed request answers an id; it reads processed once the delay is 0, and the subject is forgotten")
    func processedForgetsTheSubject() async throws {
        let harness = try SimulatorHarness()
        defer { harness.shutdown() }
        #expect(try await harness.postAttributes(customAttributesBody(email: "ann@example.com")).status == 200)
        #expect(try await harness.postAttributes(customAttributesBody(phone: "+13115550001")).status == 200)
        let event = #"{"type":"Sent","user":{"email":"ann@example.com"}}"#
        let other = #"{"type":"Sent","user":{"email":"bob@example.com"}}"#
        #expect(try await harness.send("POST", "/v1/events/custom", body: event).status == 200)
        #expect(try await harness.send("POST", "/v1/events/custom", body: other).status == 200)

        let filed = try await harness.send(
            "POST", "/v1/privacy/delete-request",
            body: #"{"subjectEmail":"ann@example.com","requestMsg":"erasure 17"}"#)
        #expect(filed.status == 200)
        let id = try #require(try filed.jsonObject()["id"] as? String)
        #expect(!id.isEmpty)

        let status = try await harness.send("GET", "/v1/privacy/delete-request/\(id)")
        #expect(status.status == 200)
        let dto = try status.jsonObject()
        #expect(dto["id"] as? String == id)
        #expect(dto["processed"] as? Bool == true)
        #expect(dto["type"] as? String == "DELETE")
        #expect(dto["subjectEmail"] as? String == "a**@example.com")
        #expect(dto["requestMsg"] as? String == "erasure 17")
        #expect(dto["processingEndDateTime"] is String)
        #expect(harness.simulator.profile(email: "ann@example.com") == nil)
        #expect(harness.simulator.profile(phone: "+13115550001") != nil)
        #expect(harness.simulator.acceptedEvents().count == 1)
        #expect(harness.simulator.acceptedEvents().first?.contains("bob@example.com") == true)
        #expect(
            harness.simulator.privacyRequests() == [
                SimulatedPrivacyRequest(
                    id: id, subjectEmail: "ann@example.com", requestMsg: "erasure 17", processed: true)
            ])
    }

    @Test("a request stays unprocessed, and the subject kept, until the configured delay has passed")
    func unprocessedWithinTheDelay() async throws {
        let harness = try SimulatorHarness { $0.privacyProcessingDelayMilliseconds = 600_000 }
        defer { harness.shutdown() }
        #expect(try await harness.postAttributes(customAttributesBody(phone: "+13115550002")).status == 200)
        let filed = try await harness.send(
            "POST", "/v1/privacy/delete-request", body: #"{"subjectPhone":"+13115550002"}"#)
        let id = try #require(try filed.jsonObject()["id"] as? String)
        let dto = try await harness.send("GET", "/v1/privacy/delete-request/\(id)").jsonObject()
        #expect(dto["processed"] as? Bool == false)
        #expect(dto["subjectPhone"] as? String == "+*****0002")
        #expect(dto["processingEndDateTime"] == nil)
        #expect(harness.simulator.profile(phone: "+13115550002") != nil)
    }

    @Test(
        "bodies the spec refuses get 400 with an error message",
        arguments: [
            #"{}"#, #"{"requestMsg":"no subject"}"#, #"{"subjectEmail":""}"#, #"{"subjectEmail":42}"#,
            #"{"subjectPhone":"4155550101"}"#, #"{"subjectEmail":"not an email"}"#,
            #"{"clientUserId":"u1","requestMsg":7}"#, #"[]"#, #"not json"#,
        ])
    func refusesInvalidBodies(_ body: String) async throws {
        let harness = try SimulatorHarness()
        defer { harness.shutdown() }
        let answer = try await harness.send("POST", "/v1/privacy/delete-request", body: body)
        #expect(answer.status == 400)
        #expect(try answer.jsonObject()["error"] is String)
        #expect(harness.simulator.privacyRequests().isEmpty)
    }

    @Test("a client user id alone is a valid subject; unknown ids are 404; other methods 405; no key 401")
    func routesAndAuthentication() async throws {
        let harness = try SimulatorHarness()
        defer { harness.shutdown() }
        let filed = try await harness.send("POST", "/v1/privacy/delete-request", body: #"{"clientUserId":"u-1"}"#)
        #expect(filed.status == 200)
        #expect(try await harness.send("GET", "/v1/privacy/delete-request/nope").status == 404)
        #expect(try await harness.send("GET", "/v1/privacy/delete-request").status == 405)
        #expect(try await harness.send("DELETE", "/v1/privacy/delete-request/x").status == 405)
        let anonymous = try await harness.send(
            "POST", "/v1/privacy/delete-request", body: #"{"clientUserId":"u-2"}"#, key: nil)
        #expect(anonymous.status == 401)
        #expect(harness.simulator.privacyRequests().map(\.clientUserId) == ["u-1"])
    }
}
