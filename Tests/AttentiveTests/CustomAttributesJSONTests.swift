import Foundation
import ReferralModel
import Testing

@testable import Attentive

/// The custom-attributes body (the request and the dry run's line) is the JSON JSONSerialization writes, however
/// odd the values, except that slashes are not escaped (as `JSONEncoder.withoutEscapingSlashes` never did on the
/// wire).
@Suite struct CustomAttributesJSONTests {
    static func reference(_ update: AttributeUpdate) throws -> String {
        var user: [String: String] = [:]
        user["email"] = update.user.nonEmptyEmail
        user["phone"] = update.user.nonEmptyPhone
        let body: [String: Any] = ["properties": update.properties, "user": user]
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self).replacingOccurrences(of: #"\/"#, with: "/")
    }

    @Test func everyAttributeSubsetAndIdentityMatchesJSONSerialization() throws {
        let values: [OkendoAttribute: String] = [
            .shareableLink: "https://test.oken.do/z7itbfwu", .successfulReferrals: "12",
            .latestSuccessfulReferralDate: "2024-11-08T06:10:36.989Z", .totalSuccessfulReferralRevenue: "",
        ]
        let identities = [
            AttentiveUser(email: "a@example.com", phone: "+14155550101"),
            AttentiveUser(email: "a@example.com", phone: nil),
            AttentiveUser(email: nil, phone: "+447700900123"),
        ]
        for mask in 1..<16 {
            var properties: [String: String] = [:]
            for attribute in OkendoAttribute.attributes(inMask: mask) {
                properties[attribute.rawValue] = values[attribute]
            }
            for user in identities {
                let update = AttributeUpdate(user: user, properties: properties)
                #expect(CustomAttributesJSON.encode(update) == (try Self.reference(update)))
            }
        }
    }

    @Test func escapingMatchesJSONSerializationForEveryControlCharacterAndUnicode() throws {
        var samples = (0..<0x80).map { String(UnicodeScalar(UInt8($0))) }
        samples += ["zoë.müller@example.de", "𝄞 emoji 🎉", "quote \" back \\ slash /", "\u{2028}\u{2029}", "é\u{0301}"]
        for sample in samples {
            let update = AttributeUpdate(
                user: AttentiveUser(email: sample, phone: nil),
                properties: [OkendoAttribute.shareableLink.rawValue: sample])
            #expect(
                CustomAttributesJSON.encode(update) == (try Self.reference(update)),
                "\(sample.unicodeScalars.map(\.value))")
        }
    }
}

/// The name the merchant chose for an event type is applied to the frozen body when it is sent, in one place.
@Suite struct CustomEventTypeRenamingTests {
    static let event = CustomEvent(
        type: "Sent Okendo Referral", propertiesJSON: #"{"type":"Sent Okendo Referral","Customer Role":"referrer"}"#,
        externalEventID: "6f1c0e4a-0000-5000-8000-000000000001", occurredAt: "2025-01-10T12:00:00.000Z",
        user: AttentiveUser(email: "ann@example.com", phone: nil))

    @Test func onlyTheTypeMemberChanges() throws {
        let frozen = CustomEventJSON.encode(Self.event)
        var renamed = Self.event
        renamed.type = "Referral Sent \u{e9}"
        let sent = try #require(CustomEventJSON.body(frozen, ofType: Self.event.type, sentAs: renamed.type))
        #expect(sent == CustomEventJSON.encode(renamed))
        // The same id, time, user and properties (a property may quote the type: it is left as it is).
        #expect(sent.hasSuffix(frozen.dropFirst(#"{"type":"Sent Okendo Referral""#.utf8.count)))
    }

    @Test func okendosNameLeavesTheBodyAsItIs() {
        let frozen = CustomEventJSON.encode(Self.event)
        #expect(CustomEventJSON.body(frozen, ofType: Self.event.type, sentAs: Self.event.type) == frozen)
    }

    @Test func aBodyOfAnotherTypeIsNotRenamed() {
        let frozen = CustomEventJSON.encode(Self.event)
        #expect(CustomEventJSON.body(frozen, ofType: "Okendo Referral Invitation", sentAs: "Invited") == nil)
        #expect(CustomEventJSON.body("", ofType: Self.event.type, sentAs: "Invited") == nil)
    }
}
