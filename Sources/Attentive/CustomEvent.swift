/// One custom event (`CustomEventsRequest` of `POST /v1/events/custom`): its type, properties, id, time and user.
public struct CustomEvent: Sendable, Equatable {
    /// The event type, case-sensitive (e.g. `Sent Okendo Referral`).
    public var type: String
    /// The properties as one JSON object's text, exactly as they are to be sent.
    public var propertiesJSON: String
    /// `externalEventId`: the same for every attempt and every run that sends this event.
    public var externalEventID: String
    /// `occurredAt`, RFC 3339 in UTC (`2024-11-08T06:10:36.989Z`).
    public var occurredAt: String
    public var user: AttentiveUser

    /// The characters Attentive's spec forbids in an event's `type` (`CustomEventsRequest`).
    public static let forbiddenTypeCharacters: Set<Character> = [
        "\"", "'", "(", ")", "{", "}", "[", "]", "\\", "|", ",",
    ]

    public init(type: String, propertiesJSON: String, externalEventID: String, occurredAt: String, user: AttentiveUser)
    {
        self.type = type
        self.propertiesJSON = propertiesJSON
        self.externalEventID = externalEventID
        self.occurredAt = occurredAt
        self.user = user
    }
}

/// The body of `POST /v1/events/custom`, written by hand like ``CustomAttributesJSON``: compact, keys in a fixed
/// order, the properties object as given. The events ledger keeps these bytes, so every retry and every later
/// run sends exactly them.
public enum CustomEventJSON {
    /// The request body for `event`, as text.
    public static func encode(_ event: CustomEvent) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256 + event.propertiesJSON.utf8.count)
        bytes.append(contentsOf: #"{"type":"#.utf8)
        CustomAttributesJSON.appendString(event.type, to: &bytes)
        bytes.append(contentsOf: #","properties":"#.utf8)
        bytes.append(contentsOf: event.propertiesJSON.utf8)
        bytes.append(contentsOf: #","externalEventId":"#.utf8)
        CustomAttributesJSON.appendString(event.externalEventID, to: &bytes)
        bytes.append(contentsOf: #","occurredAt":"#.utf8)
        CustomAttributesJSON.appendString(event.occurredAt, to: &bytes)
        bytes.append(contentsOf: #","user":{"#.utf8)
        var needsComma = false
        for (key, value) in [("email", event.user.nonEmptyEmail), ("phone", event.user.nonEmptyPhone)] {
            guard let value else { continue }
            if needsComma { bytes.append(UInt8(ascii: ",")) }
            CustomAttributesJSON.appendString(key, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            CustomAttributesJSON.appendString(value, to: &bytes)
            needsComma = true
        }
        bytes.append(contentsOf: "}}".utf8)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `body`, as ``encode(_:)`` wrote it for an event of type `type`, sent as `sentType` instead: only the `type`
    /// member changes, every other byte stays (the id, the time, the properties). The ledger keeps the body with
    /// Okendo's type; the name the merchant chose (`--event-type-names`) is applied here, when it is sent, so a
    /// change of names applies to every event not yet delivered.
    /// - Returns: The body to send, or `nil` when `body` does not start with `type` (not written by ``encode(_:)``).
    public static func body(_ body: String, ofType type: String, sentAs sentType: String) -> String? {
        guard sentType != type else { return body }
        var prefix = Array(#"{"type":"#.utf8)
        CustomAttributesJSON.appendString(type, to: &prefix)
        let bytes = Array(body.utf8)
        guard bytes.starts(with: prefix) else { return nil }
        var renamed = Array(#"{"type":"#.utf8)
        CustomAttributesJSON.appendString(sentType, to: &renamed)
        renamed.append(contentsOf: bytes[prefix.count...])
        return String(decoding: renamed, as: UTF8.self)
    }
}
