import Foundation

/// One user's custom attribute values to write to Attentive.
///
/// Values are strings; Attentive types an attribute by the first value it sees (`"24"` makes it a
/// number). Names are case-sensitive and at most 200 characters.
public struct AttributeUpdate: Sendable, Hashable {
    /// Whose attributes to set.
    public var user: AttentiveUser
    /// Attribute name to value.
    public var properties: [String: String]

    /// Creates an update of `properties` for `user`.
    public init(user: AttentiveUser, properties: [String: String]) {
        self.user = user
        self.properties = properties
    }
}
