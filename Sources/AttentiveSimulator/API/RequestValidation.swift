import Foundation

/// Why a request (v1) or a bulk record (v2) was refused.
struct ValidationFailure: Error, Sendable, Equatable {
    var message: String
    /// True when the refusal comes from `FaultMix.badIdentities` rather than from the payload's shape.
    var isBadIdentity = false
}

/// Validation rules shared by the v1 custom-attributes endpoint and the v2 bulk records, following the specs.
enum AttributeValidation {
    /// Longest attribute name Attentive accepts.
    static let maximumNameLength = 200
    /// Keys `EventUser` allows (`additionalProperties: false`).
    static let eventUserKeys: Set<String> = ["phone", "email", "externalIdentifiers"]

    /// Whether `phone` matches `^\+[1-9][0-9]{6,14}$` (E.164).
    static func isE164(_ phone: String) -> Bool {
        let bytes = Array(phone.utf8)
        guard bytes.count >= 8, bytes.count <= 16, bytes[0] == UInt8(ascii: "+") else { return false }
        guard (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(bytes[1]) else { return false }
        return bytes.dropFirst(2).allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    /// A light email check: non-empty, contains "@", no whitespace.
    static func isPlausibleEmail(_ email: String) -> Bool {
        !email.isEmpty && email.contains("@") && !email.contains(where: { $0.isWhitespace })
    }

    /// Validates a custom-attributes object and returns its members as stored strings, in order.
    /// Strings are kept exactly; numbers keep their JSON text; booleans become "true"/"false".
    static func attributes(_ value: OrderedJSON, field: String) -> Result<
        [(name: String, value: String)], ValidationFailure
    > {
        guard let members = value.objectMembers else {
            return .failure(ValidationFailure(message: "\(field) must be an object, not \(value.typeName)"))
        }
        var result: [(name: String, value: String)] = []
        result.reserveCapacity(members.count)
        for member in members {
            if member.key.isEmpty {
                return .failure(ValidationFailure(message: "\(field): attribute names must not be empty"))
            }
            if member.key.utf16.count > maximumNameLength {
                return .failure(
                    ValidationFailure(
                        message: "\(field): attribute name is longer than \(maximumNameLength) characters"))
            }
            switch member.value {
            case .string(let text): result.append((member.key, text))
            case .number(let literal): result.append((member.key, literal))
            case .bool(let flag): result.append((member.key, flag ? "true" : "false"))
            case .array:
                return .failure(
                    ValidationFailure(message: "\(field).\(member.key): arrays are not supported as attribute values"))
            case .object:
                return .failure(
                    ValidationFailure(message: "\(field).\(member.key): objects are not supported as attribute values"))
            case .null:
                return .failure(
                    ValidationFailure(message: "\(field).\(member.key): value must be a string, number or boolean"))
            }
        }
        return .success(result)
    }

    /// Validates an email and phone pair (either may be absent) and checks them against the bad identities.
    static func identifiers(email: OrderedJSON?, phone: OrderedJSON?, field: String, badIdentities: Set<String>)
        -> Result<(email: String?, phone: String?), ValidationFailure>
    {
        var emailText: String?
        var phoneText: String?
        if let email {
            guard let text = email.stringValue, isPlausibleEmail(text) else {
                return .failure(ValidationFailure(message: "\(field).email must be a valid email address"))
            }
            emailText = text
        }
        if let phone {
            guard let text = phone.stringValue, isE164(text) else {
                return .failure(ValidationFailure(message: "\(field).phone must be in E.164 format, e.g. +13115552368"))
            }
            phoneText = text
        }
        for identity in [emailText, phoneText].compactMap({ $0 }) where badIdentities.contains(identity) {
            return .failure(
                ValidationFailure(message: "\(field) identifier is invalid: \(identity)", isBadIdentity: true))
        }
        return .success((emailText, phoneText))
    }

    /// A request body that must be a JSON object: the same 400 message for every endpoint when it is not.
    static func jsonObject(_ body: [UInt8]) -> Result<OrderedJSON, ValidationFailure> {
        let document: OrderedJSON
        do {
            document = try OrderedJSONParser.parse(body)
        } catch {
            return .failure(ValidationFailure(message: "Request body is not valid JSON: \(error)"))
        }
        guard document.objectMembers != nil else {
            return .failure(ValidationFailure(message: "Request body must be a JSON object"))
        }
        return .success(document)
    }

    /// Validates a `POST /v1/attributes/custom` body (`CustomAttributesRequest`).
    static func customAttributesRequest(_ body: [UInt8], badIdentities: Set<String>)
        -> Result<ProfileUpdate, ValidationFailure>
    {
        let document: OrderedJSON
        switch AttributeValidation.jsonObject(body) {
        case .success(let object): document = object
        case .failure(let failure): return .failure(failure)
        }
        guard let properties = document["properties"] else {
            return .failure(ValidationFailure(message: "properties is required"))
        }
        let attributes: [(name: String, value: String)]
        switch self.attributes(properties, field: "properties") {
        case .failure(let failure): return .failure(failure)
        case .success(let parsed): attributes = parsed
        }
        guard let user = document["user"] else { return .failure(ValidationFailure(message: "user is required")) }
        guard let userMembers = user.objectMembers else {
            return .failure(ValidationFailure(message: "user must be an object"))
        }
        if let unknown = userMembers.first(where: { !eventUserKeys.contains($0.key) }) {
            return .failure(ValidationFailure(message: "user has an unknown field: \(unknown.key)"))
        }
        guard user["phone"] != nil || user["email"] != nil || user["externalIdentifiers"] != nil else {
            return .failure(ValidationFailure(message: "user requires phone, email or externalIdentifiers"))
        }
        if let external = user["externalIdentifiers"], external.objectMembers == nil {
            return .failure(ValidationFailure(message: "user.externalIdentifiers must be an object"))
        }
        switch identifiers(email: user["email"], phone: user["phone"], field: "user", badIdentities: badIdentities) {
        case .failure(let failure): return .failure(failure)
        case .success(let identity):
            return .success(ProfileUpdate(email: identity.email, phone: identity.phone, attributes: attributes))
        }
    }
}
