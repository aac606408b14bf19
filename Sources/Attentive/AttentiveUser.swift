import Foundation

/// Identifies a user in Attentive by email address and/or phone number (E.164, e.g. `+13115552368`).
///
/// Attentive needs at least one identifier. Absent and empty identifiers are left out of request
/// bodies entirely (never sent as `null` or `""`).
public struct AttentiveUser: Sendable, Hashable, Codable {
    /// The user's email address, if known.
    public var email: String?
    /// The user's phone number in E.164 format, if known.
    public var phone: String?

    /// Creates a user identity. Pass `nil` for an identifier you do not have.
    public init(email: String?, phone: String?) {
        self.email = email
        self.phone = phone
    }

    /// The email address when present and not empty.
    public var nonEmptyEmail: String? {
        guard let email, !email.isEmpty else { return nil }
        return email
    }

    /// The phone number when present and not empty.
    public var nonEmptyPhone: String? {
        guard let phone, !phone.isEmpty else { return nil }
        return phone
    }

    /// Whether the user carries at least one non-empty identifier, as Attentive requires.
    public var hasIdentifier: Bool {
        nonEmptyEmail != nil || nonEmptyPhone != nil
    }
}
