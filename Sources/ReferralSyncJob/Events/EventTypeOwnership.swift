import Attentive
import Synchronization

/// Attentive's ownership rule for custom event types, diagnosed (README "Events"): "Custom events must be triggered
/// using the same custom app that originally created them." A merchant whose types were created by another app
/// (Okendo's own integration) gets a 403 for them with a key that works everywhere else.
///
/// A 403 to `POST /v1/events/custom` is checked against the key once per run, with `GET /v1/me`: every refused
/// request waits for that one answer. When the key works, the refusal is the type's: ``EventSender`` records the
/// event `type_not_owned` (still pending) and sends no more of that type; the other types go on. When it does not,
/// the key is refused as for any other request (exit 77, through ``DeliveryTracker``).
final class EventTypeOwnership: Sendable {
    /// The error code of such an event, in the ledger's `error` and at the start of `events.csv`'s `error`.
    static let code = "type_not_owned"

    private let client: AttentiveClient
    private let keyCheck = Mutex<Task<DeliveryOutcome, Never>?>(nil)

    init(client: AttentiveClient) {
        self.client = client
    }

    /// Whether `outcome` is a refusal ``keyAnswer()`` must explain: a 403 to an event.
    static func needsKeyCheck(_ outcome: DeliveryOutcome) -> Bool {
        if case .rejected(403, _, _) = outcome { return true }
        return false
    }

    /// Attentive's answer to `GET /v1/me`, asked by the first caller of the run and shared by every other: the
    /// requests refused at the same moment (up to `--concurrency`) wait for the one answer.
    func keyAnswer() async -> DeliveryOutcome {
        let client = self.client
        let check = keyCheck.withLock { check in
            if let check { return check }
            let started = Task { await client.verifyKey() }
            check = started
            return started
        }
        return await check.value
    }

    /// The event types refused in a run, by Okendo's name, with the name they were sent under and their events.
    struct Refused {
        struct RefusedType {
            var sentName: String
            var events: Int
        }

        private(set) var types: [String: RefusedType] = [:]

        var isEmpty: Bool { types.isEmpty }
        var events: Int { types.values.reduce(0) { $0 + $1.events } }

        func contains(_ okendoType: String) -> Bool { types[okendoType] != nil }

        /// Adds another pass's refusals (a follower's period is many passes).
        mutating func add(_ other: Refused) {
            for (type, refused) in other.types {
                types[type, default: RefusedType(sentName: refused.sentName, events: 0)].events += refused.events
            }
        }

        /// Counts one more event of `okendoType`; `true` for the type's first.
        mutating func add(_ okendoType: String, sentAs sentName: String) -> Bool {
            let first = types[okendoType] == nil
            types[okendoType, default: RefusedType(sentName: sentName, events: 0)].events += 1
            return first
        }

        /// The run's closing instruction: the types, the events left pending and the remedy, and how many other
        /// events failed.
        func message(otherFailures: Int) -> String {
            let names = types.sorted { $0.key < $1.key }.map { okendo, refused in
                refused.sentName == okendo ? "'\(okendo)'" : "'\(refused.sentName)' (Okendo's '\(okendo)')"
            }
            return "Attentive refuses the event types \(names.joined(separator: ", ")) from this key's app although "
                + "the key works: another app created them (\(events) events stay pending, "
                + "\(EventTypeOwnership.code) in events.csv). Map them to names of your own with "
                + "--event-type-names, or send them with the key of the app that created them"
                + (otherFailures > 0 ? "; \(otherFailures) other events failed and stay pending: see events.csv" : "")
        }
    }

    /// `events.csv`'s error for an event Attentive refused for its type.
    static func refusal(sentAs sentName: String, answer: String) -> String {
        "\(code): Attentive refuses the type '\(sentName)' from this key's app (the key works): \(answer)"
    }

    /// What `GET /v1/me` answered when it neither accepted nor refused the key.
    static func words(ofKeyAnswer answer: DeliveryOutcome) -> String {
        switch answer {
        case .accepted(let status, _): "GET /v1/me answered \(status)"
        case .rejected(let status, let message, _), .unauthorized(let status, let message):
            "GET /v1/me answered \(status): \(message)"
        case .gaveUp(let status, let error, _):
            "GET /v1/me gave up" + (status.map { " after \($0)" } ?? "") + ": \(error)"
        case .notSent(let reason): "GET /v1/me was not sent: \(reason)"
        }
    }

    /// `events.csv`'s error for an event of a type refused earlier in the run, not sent.
    static func notSent(sentAs sentName: String) -> String {
        "\(code): not sent: Attentive refused the type '\(sentName)' earlier in this run"
    }
}
