import AttentiveSimulator
import Foundation
import TestSupport
import Testing

@Suite("v1 custom attributes")
struct CustomAttributesTests {
    @Test("an accepted update is readable via GET and via profile(email:)")
    func acceptedUpdateIsReadable() async throws {
        let harness = try SimulatorHarness()
        defer { harness.shutdown() }
        let body = customAttributesBody(
            email: "ada@example.com", phone: "+13115552368",
            properties: #"{"referral_code":"ADA-42","referrals":6,"balance":50.89,"vip":true}"#)
        let posted = try await harness.postAttributes(body)
        #expect(posted.status == 200)

        let expected = ["referral_code": "ADA-42", "referrals": "6", "balance": "50.89", "vip": "true"]
        let byEmail = try await harness.send("GET", "/v1/attributes/custom?email=ada%40example.com")
        #expect(byEmail.status == 200)
        let items = try byEmail.jsonArray()
        let pairs = Dictionary(
            uniqueKeysWithValues: items.compactMap { item -> (String, String)? in
                guard let name = item["name"] as? String, let value = item["value"] as? String else { return nil }
                return (name, value)
            })
        #expect(pairs == expected)
        #expect(items.map { $0["name"] as? String } == ["balance", "referral_code", "referrals", "vip"])

        let byPhone = try await harness.send("GET", "/v1/attributes/custom?phone=%2B13115552368")
        #expect(byPhone.status == 200)
        #expect(try byPhone.jsonArray().count == 4)

        let profile = harness.simulator.profile(email: "ada@example.com")
        #expect(profile == SimulatedProfile(email: "ada@example.com", phone: "+13115552368", attributes: expected))
        #expect(harness.simulator.profile(phone: "+13115552368") == profile)
        #expect(harness.simulator.statistics().acceptedUpdates == 1)
    }

    @Test("updates merge per attribute and link the second identifier")
    func updatesMerge() async throws {
        let harness = try SimulatorHarness()
        defer { harness.shutdown() }
        #expect(try await harness.postAttributes(customAttributesBody(email: "b@example.com")).status == 200)
        let linked = customAttributesBody(
            email: "b@example.com", phone: "+447700900123", properties: #"{"tier":"silver","code":"B1"}"#)
        #expect(try await harness.postAttributes(linked).status == 200)
        let byPhone = customAttributesBody(phone: "+447700900123", properties: #"{"points":"10"}"#)
        #expect(try await harness.postAttributes(byPhone).status == 200)

        #expect(
            harness.simulator.profiles() == [
                SimulatedProfile(
                    email: "b@example.com", phone: "+447700900123",
                    attributes: ["tier": "silver", "code": "B1", "points": "10"])
            ])
    }

    static let invalidBodies: [(String, String)] = [
        ("array value", #"{"properties":{"cities":["chicago","new york"]},"user":{"email":"x@example.com"}}"#),
        ("object value", #"{"properties":{"nested":{"a":1}},"user":{"email":"x@example.com"}}"#),
        ("null value", #"{"properties":{"gone":null},"user":{"email":"x@example.com"}}"#),
        ("missing user", #"{"properties":{"tier":"gold"}}"#),
        ("user without identifiers", #"{"properties":{"tier":"gold"},"user":{}}"#),
        ("phone not E.164", #"{"properties":{"tier":"gold"},"user":{"phone":"13115552368"}}"#),
        ("phone with dashes", #"{"properties":{"tier":"gold"},"user":{"phone":"+1-311-555-2368"}}"#),
        ("unknown user field", #"{"properties":{"tier":"gold"},"user":{"email":"x@example.com","name":"X"}}"#),
        ("missing properties", #"{"user":{"email":"x@example.com"}}"#),
        ("properties not an object", #"{"properties":["tier"],"user":{"email":"x@example.com"}}"#),
        (
            "name longer than 200",
            #"{"properties":{"\#(String(repeating: "n", count: 201))":"v"},"user":{"email":"x@example.com"}}"#
        ),
        ("not JSON", "properties=tier"),
        ("truncated JSON", #"{"properties":{"tier":"gold"},"user":{"email":"x@example.com"}"#),
    ]

    @Test("invalid bodies get 400 with a JSON message and change nothing", arguments: invalidBodies)
    func rejectsInvalidBodies(_ testCase: (String, String)) async throws {
        let harness = try SimulatorHarness()
        defer { harness.shutdown() }
        let response = try await harness.postAttributes(testCase.1)
        #expect(response.status == 400, "\(testCase.0)")
        let message = try response.jsonObject()["message"] as? String
        #expect(message?.isEmpty == false, "\(testCase.0)")
        #expect(harness.simulator.profiles().isEmpty)
        #expect(harness.simulator.statistics().acceptedUpdates == 0)
    }

    @Test("a 200-character name and an externalIdentifiers-only user are accepted")
    func acceptsEdgeCases() async throws {
        let harness = try SimulatorHarness()
        defer { harness.shutdown() }
        let name = String(repeating: "n", count: 200)
        let longName = #"{"properties":{"\#(name)":"v"},"user":{"email":"long@example.com"}}"#
        #expect(try await harness.postAttributes(longName).status == 200)
        #expect(harness.simulator.profile(email: "long@example.com")?.attributes[name] == "v")
        let external = #"{"properties":{"a":"b"},"user":{"externalIdentifiers":{"clientUserId":"c-1"}}}"#
        #expect(try await harness.postAttributes(external).status == 200)
        #expect(harness.simulator.profiles().count == 1)
    }

    @Test("GET needs exactly one of email or phone; unknown users are 404")
    func getParameters() async throws {
        let harness = try SimulatorHarness()
        defer { harness.shutdown() }
        _ = try await harness.postAttributes(customAttributesBody(email: "c@example.com", phone: "+13115550000"))
        let both = try await harness.send("GET", "/v1/attributes/custom?email=c%40example.com&phone=%2B13115550000")
        #expect(both.status == 400)
        #expect(try await harness.send("GET", "/v1/attributes/custom").status == 400)
        #expect(try await harness.send("GET", "/v1/attributes/custom?email=nobody%40example.com").status == 404)
        // An unencoded '+' decodes to a space, as in the real API, so the phone is not E.164.
        #expect(try await harness.send("GET", "/v1/attributes/custom?phone=+13115550000").status == 400)
    }

    @Test("GET /v1/me describes the company")
    func me() async throws {
        let harness = try SimulatorHarness()
        defer { harness.shutdown() }
        let response = try await harness.send("GET", "/v1/me")
        #expect(response.status == 200)
        let object = try response.jsonObject()
        for key in ["applicationName", "attentiveDomainName", "companyName", "contactEmail", "companyId"] {
            #expect(object[key] is String, "\(key)")
        }
    }
}
