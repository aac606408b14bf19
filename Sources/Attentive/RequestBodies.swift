import Foundation

/// Wire shapes of the request bodies the client sends, and their deterministic JSON encoding.
enum RequestBody {
    /// Largest batch `POST /v2/bulk/user/attributes` accepts.
    static let maxBulkUsers = 256

    /// `EventUser` (v1) and the `identifiers` object (v2): absent or empty identifiers are omitted.
    struct Identifiers: Encodable, Equatable {
        var email: String?
        var phone: String?

        init(_ user: AttentiveUser) {
            email = user.nonEmptyEmail
            phone = user.nonEmptyPhone
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encodeIfPresent(email, forKey: .email)
            try container.encodeIfPresent(phone, forKey: .phone)
        }

        private enum CodingKeys: String, CodingKey {
            case email
            case phone
        }
    }

    /// `UserAttributes`: `{"users": [{"identifiers": {...}, "attributes": {"custom": {...}}}]}`.
    struct BulkUserAttributes: Encodable, Equatable {
        struct Record: Encodable, Equatable {
            struct Attributes: Encodable, Equatable {
                var custom: [String: String]
            }

            var identifiers: Identifiers
            var attributes: Attributes
        }

        var users: [Record]
    }

    /// `PrivacyRequestAddDeleteEventDto`: one subject identity and the audit message; absent fields are omitted.
    struct PrivacyDeleteRequest: Encodable, Equatable {
        var subjectEmail: String?
        var subjectPhone: String?
        var requestMsg: String?
    }

    /// JSON with sorted keys, so equal updates always produce identical bytes.
    static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// The body of `POST /v1/attributes/custom` for `update` (``CustomAttributesJSON``, the dry run's encoder too).
    static func customAttributes(_ update: AttributeUpdate) throws -> Data {
        Data(CustomAttributesJSON.bytes(update))
    }

    /// The body of `POST /v2/bulk/user/attributes` for `updates`, in order.
    static func bulkUserAttributes(_ updates: [AttributeUpdate]) throws -> Data {
        let records = updates.map { update in
            BulkUserAttributes.Record(
                identifiers: Identifiers(update.user),
                attributes: .init(custom: update.properties)
            )
        }
        return try encode(BulkUserAttributes(users: records))
    }

    /// The body of `POST /v1/privacy/delete-request` for one identity.
    static func deleteRequest(_ subject: DeletionSubject, message: String?) throws -> Data {
        var request = PrivacyDeleteRequest(requestMsg: message)
        switch subject {
        case .email(let email): request.subjectEmail = email
        case .phone(let phone): request.subjectPhone = phone
        }
        return try encode(request)
    }
}
