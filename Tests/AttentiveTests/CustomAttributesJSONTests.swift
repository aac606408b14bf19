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
