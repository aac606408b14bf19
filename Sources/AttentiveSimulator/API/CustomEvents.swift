import Foundation
import Synchronization

/// Every custom event the simulator accepted, in order, duplicates included: tests prove a job sends each event
/// once by finding no `externalEventId` twice (and none with two different bodies).
final class EventStore: Sendable {
    /// An accepted body and when it arrived (Unix time, the wall clock: the follower's benchmark compares it with
    /// the commit time PostgreSQL wrote on the same machine).
    private struct Accepted {
        var event: OrderedJSON
        var receivedAt: Double
    }

    private let state = Mutex([Accepted]())

    func append(_ event: OrderedJSON) {
        let now = Date().timeIntervalSince1970
        state.withLock { $0.append(Accepted(event: event, receivedAt: now)) }
    }

    /// The accepted bodies, in the order they arrived.
    func all() -> [OrderedJSON] {
        state.withLock { $0.map(\.event) }
    }

    /// `externalEventId` and arrival time of each accepted event, in order (`GET /__simulator/event-receipts`).
    func receipts() -> OrderedJSON {
        .array(
            state.withLock { accepted in
                accepted.map {
                    .makeObject([
                        ("externalEventId", $0.event["externalEventId"] ?? .null),
                        ("receivedAt", .number(String(format: "%.6f", $0.receivedAt))),
                    ])
                }
            })
    }

    func removeAll() {
        state.withLock { $0.removeAll() }
    }

    /// Forgets the events `shouldRemove` picks (a processed deletion request's subject).
    func removeAll(where shouldRemove: (OrderedJSON) -> Bool) {
        state.withLock { $0.removeAll(where: { shouldRemove($0.event) }) }
    }
}

/// `CustomEventsRequest` (`POST /v1/events/custom`), validated as the spec describes it.
enum CustomEventValidation {
    /// Characters the spec forbids in `type`.
    static let forbiddenInType: Set<Character> = ["\"", "'", "(", ")", "{", "}", "[", "]", "\\", "|", ","]
    /// Characters the spec forbids in property keys.
    static let forbiddenInPropertyKeys: Set<Character> = ["\"", "{", "}", "[", "]", "\\", "|"]

    /// The parsed body when it is a valid event; otherwise the reason for a 400.
    static func validate(_ body: [UInt8]) -> Result<OrderedJSON, ValidationFailure> {
        let json: OrderedJSON
        do {
            json = try OrderedJSONParser.parse(body)
        } catch {
            return .failure(ValidationFailure(message: "Invalid JSON: \(error)"))
        }
        guard let members = json.objectMembers else {
            return .failure(ValidationFailure(message: "The body must be a JSON object"))
        }
        let allowed: Set<String> = ["type", "properties", "externalEventId", "occurredAt", "user"]
        if let unknown = members.first(where: { !allowed.contains($0.key) }) {
            return .failure(ValidationFailure(message: "Unknown field '\(unknown.key)'"))
        }
        guard let type = json["type"]?.stringValue, !type.isEmpty else {
            return .failure(ValidationFailure(message: "type is required and must be a non-empty string"))
        }
        if type.contains(where: forbiddenInType.contains) {
            return .failure(ValidationFailure(message: "type must not contain \" ' ( ) { } [ ] \\ | or ,"))
        }
        if let properties = json["properties"] {
            guard let keys = properties.objectMembers?.map(\.key) else {
                return .failure(ValidationFailure(message: "properties must be an object"))
            }
            if keys.contains(where: { $0.contains(where: forbiddenInPropertyKeys.contains) }) {
                return .failure(ValidationFailure(message: "property keys must not contain \" { } [ ] \\ or |"))
            }
        }
        if let id = json["externalEventId"], id.stringValue == nil {
            return .failure(ValidationFailure(message: "externalEventId must be a string"))
        }
        if let occurred = json["occurredAt"] {
            guard let text = occurred.stringValue, isRFC3339WithOffset(text) else {
                return .failure(ValidationFailure(message: "occurredAt must be RFC 3339 with a UTC offset"))
            }
        }
        guard let user = json["user"], let userMembers = user.objectMembers, !userMembers.isEmpty else {
            return .failure(ValidationFailure(message: "user is required: an object with phone, email or both"))
        }
        if let unknown = userMembers.first(where: { !AttributeValidation.eventUserKeys.contains($0.key) }) {
            return .failure(ValidationFailure(message: "user: unknown field '\(unknown.key)'"))
        }
        if let phone = user["phone"] {
            guard let text = phone.stringValue, AttributeValidation.isE164(text) else {
                return .failure(ValidationFailure(message: "user.phone must be in E.164 format"))
            }
        }
        if let email = user["email"] {
            guard let text = email.stringValue, AttributeValidation.isPlausibleEmail(text) else {
                return .failure(ValidationFailure(message: "user.email is not a valid email address"))
            }
        }
        return .success(json)
    }

    /// `2024-11-08T06:10:36.989Z` or with `+01:00`: a date, `T`, a time, optional fraction, then `Z` or an offset.
    static func isRFC3339WithOffset(_ text: String) -> Bool {
        text.wholeMatch(of: /\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})/) != nil
    }
}

extension SimulatorEngine {
    /// The answer to an event of a type another app created. Attentive does not document its status or words; these
    /// are its reference's rule.
    static let foreignTypeMessage =
        "Custom events must be triggered using the same custom app that originally created them"

    /// `POST /v1/events/custom`: validate, keep, answer 200 with an empty body. An event of one of the
    /// `foreignEventTypes` is answered 403 with a JSON message (the type belongs to another app); one for one of the
    /// `badIdentities` like a bad identity's attributes (`rejectionStatus`, `rejectionMessage`).
    func postCustomEvents(
        _ body: [UInt8], badIdentities: Set<String>, configuration: SimulatorConfiguration
    ) -> ServerResponse {
        switch CustomEventValidation.validate(body) {
        case .failure(let failure):
            return .error(400, failure.message)
        case .success(let event)
        where event["type"]?.stringValue.map(configuration.faults.foreignEventTypes.contains) ?? false:
            statistics.recordFault(.foreignEventType)
            return .error(403, Self.foreignTypeMessage)
        case .success(let event)
        where [event["user"]?["email"], event["user"]?["phone"]].contains(where: {
            $0?.stringValue.map(badIdentities.contains) ?? false
        }):
            statistics.recordFault(.badIdentity)
            return .error(
                configuration.faults.rejectionStatus,
                configuration.faults.rejectionMessage ?? "user is not a valid subscriber")
        case .success(let event):
            events.append(event)
            return ServerResponse(status: 200)
        }
    }
}
