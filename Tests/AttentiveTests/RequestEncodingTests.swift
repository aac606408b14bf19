import Foundation
import Testing

@testable import Attentive

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite("Request encoding")
struct RequestEncodingTests {
    private func text(_ data: Data) -> String { String(decoding: data, as: UTF8.self) }

    @Test func customAttributesBodyHasTheSpecShape() throws {
        let body = try RequestBody.customAttributes(sampleUpdate)
        #expect(
            text(body)
                == #"{"properties":{"referral_code":"ADA-42","referrals":"3"},"user":{"email":"ada@example.com"}}"#
        )
        let object = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        #expect(Set(object.keys) == ["properties", "user"])
    }

    @Test func absentAndEmptyIdentifiersAreOmittedNotNull() throws {
        let phoneOnly = AttributeUpdate(user: AttentiveUser(email: nil, phone: "+13115552368"), properties: ["a": "1"])
        #expect(
            text(try RequestBody.customAttributes(phoneOnly))
                == #"{"properties":{"a":"1"},"user":{"phone":"+13115552368"}}"#)
        let emptyEmail = AttributeUpdate(user: AttentiveUser(email: "", phone: "+13115552368"), properties: ["a": "1"])
        let encoded = text(try RequestBody.customAttributes(emptyEmail))
        #expect(!encoded.contains("null"))
        #expect(!encoded.contains("email"))
    }

    @Test func bothIdentifiersAreSent() throws {
        let both = AttributeUpdate(user: AttentiveUser(email: "a@b.co", phone: "+13115552368"), properties: [:])
        #expect(
            text(try RequestBody.customAttributes(both))
                == #"{"properties":{},"user":{"email":"a@b.co","phone":"+13115552368"}}"#)
    }

    @Test func encodingIsDeterministic() throws {
        var properties: [String: String] = [:]
        for index in 0..<50 { properties["attribute_\(index)"] = "value/\(index)" }
        var reversed: [String: String] = [:]
        for key in properties.keys.sorted().reversed() { reversed[key] = properties[key] }
        let first = try RequestBody.customAttributes(AttributeUpdate(user: sampleUpdate.user, properties: properties))
        let second = try RequestBody.customAttributes(AttributeUpdate(user: sampleUpdate.user, properties: reversed))
        #expect(first == second)
        #expect(text(first).contains(#""value/7""#))  // slashes unescaped
    }

    @Test func bulkBodyHasTheSpecShape() throws {
        let updates = [
            sampleUpdate,
            AttributeUpdate(user: AttentiveUser(email: nil, phone: "+13115552368"), properties: ["x": "y"]),
        ]
        #expect(
            text(try RequestBody.bulkUserAttributes(updates))
                == #"{"users":[{"attributes":{"custom":{"referral_code":"ADA-42","referrals":"3"}},"identifiers":{"email":"ada@example.com"}},"#
                + #"{"attributes":{"custom":{"x":"y"}},"identifiers":{"phone":"+13115552368"}}]}"#
        )
    }

    @Test func phonePlusIsPercentEncodedInQueries() throws {
        let factory = RequestFactory(baseURL: testBaseURL, apiKey: testAPIKey)
        let url = try #require(factory.url(path: "/v1/attributes/custom", query: [("phone", "+13115552368")]))
        #expect(url.absoluteString == "https://api.example.test/v1/attributes/custom?phone=%2B13115552368")
        let email = try #require(factory.url(path: "/v1/attributes/custom", query: [("email", "a+b&c@x.io")]))
        #expect(email.absoluteString.hasSuffix("?email=a%2Bb%26c%40x.io"))
    }

    @Test(arguments: [
        "https://api.example.test", "https://api.example.test/", "https://api.example.test/v1",
        "https://api.example.test/v1/", "https://api.example.test/v2",
    ])
    func versionSuffixOfTheBaseURLIsIgnored(base: String) throws {
        let factory = RequestFactory(baseURL: try #require(URL(string: base)), apiKey: testAPIKey)
        #expect(factory.url(path: "/v1/me")?.absoluteString == "https://api.example.test/v1/me")
    }

    @Test func keyIsSentOnlyToTheAPIHost() throws {
        let factory = RequestFactory(baseURL: testBaseURL, apiKey: testAPIKey)
        let own = factory.request(method: "GET", url: try #require(URL(string: "https://api.example.test:443/v1/me")))
        #expect(own.value(forHTTPHeaderField: "Authorization") == "Bearer \(testAPIKey)")
        let storage = factory.request(
            method: "GET", url: try #require(URL(string: "https://files.example.test/results.jsonl")))
        #expect(storage.value(forHTTPHeaderField: "Authorization") == nil)
        let otherPort = factory.request(
            method: "GET", url: try #require(URL(string: "https://api.example.test:8443/x")))
        #expect(otherPort.value(forHTTPHeaderField: "Authorization") == nil)
    }

    @Test func postsCarryJSONContentType() async throws {
        let transport = ScriptedTransport([])
        let client = scriptedClient(transport)
        _ = await client.sendCustomAttributes(sampleUpdate)
        let request = try #require(transport.requests.first)
        #expect(request.httpMethod == "POST")
        #expect(request.url?.absoluteString == "https://api.example.test/v1/attributes/custom")
        #expect(request.value(forHTTPHeaderField: "Content-Type") == "application/json")
        #expect(request.httpBody == (try RequestBody.customAttributes(sampleUpdate)))
    }
}
