import Foundation
import Synchronization

/// One deletion request as the simulator holds it (`PrivacyRequestAddDeleteEventDto` plus its state).
public struct SimulatedPrivacyRequest: Sendable, Codable, Equatable {
    /// The id answered to `POST /v1/privacy/delete-request`.
    public var id: String
    /// The subject's email, as sent.
    public var subjectEmail: String?
    /// The subject's phone, as sent.
    public var subjectPhone: String?
    /// The subject's client user id, as sent.
    public var clientUserId: String?
    /// The audit message, as sent.
    public var requestMsg: String?
    /// Whether the request has been processed (the subject's profile and events are then gone).
    public var processed: Bool

    /// A request with the given fields.
    public init(
        id: String, subjectEmail: String? = nil, subjectPhone: String? = nil, clientUserId: String? = nil,
        requestMsg: String? = nil, processed: Bool = false
    ) {
        self.id = id
        self.subjectEmail = subjectEmail
        self.subjectPhone = subjectPhone
        self.clientUserId = clientUserId
        self.requestMsg = requestMsg
        self.processed = processed
    }
}

/// Validation of `POST /v1/privacy/delete-request` bodies (`PrivacyRequestAddDeleteEventDto`): every field is a
/// string; `subjectEmail`, `subjectPhone` or `clientUserId` must be given (the spec's "only required if … is empty").
enum PrivacyRequestValidation {
    /// Longest `requestMsg` the simulator accepts (the spec sets none; a bound keeps a runaway body out).
    static let maximumMessageLength = 1_000

    static func validate(_ body: [UInt8]) -> Result<SimulatedPrivacyRequest, ValidationFailure> {
        let document: OrderedJSON
        switch AttributeValidation.jsonObject(body) {
        case .success(let object): document = object
        case .failure(let failure): return .failure(failure)
        }
        var fields: [String: String] = [:]
        for name in ["subjectEmail", "subjectPhone", "clientUserId", "requestMsg"] {
            guard let value = document[name], value != .null else { continue }
            guard let text = value.stringValue else {
                return .failure(ValidationFailure(message: "\(name) must be a string"))
            }
            if !text.isEmpty { fields[name] = text }
        }
        guard fields["subjectEmail"] != nil || fields["subjectPhone"] != nil || fields["clientUserId"] != nil else {
            return .failure(
                ValidationFailure(message: "Must either specify subjectPhone, subjectEmail or clientUserId"))
        }
        if let email = fields["subjectEmail"], !AttributeValidation.isPlausibleEmail(email) {
            return .failure(ValidationFailure(message: "subjectEmail must be a valid email address"))
        }
        if let phone = fields["subjectPhone"], !AttributeValidation.isE164(phone) {
            return .failure(ValidationFailure(message: "subjectPhone must be in E.164 format, e.g. +13115552368"))
        }
        if let message = fields["requestMsg"], message.count > maximumMessageLength {
            return .failure(
                ValidationFailure(message: "requestMsg is longer than \(maximumMessageLength) characters"))
        }
        return .success(
            SimulatedPrivacyRequest(
                id: "", subjectEmail: fields["subjectEmail"], subjectPhone: fields["subjectPhone"],
                clientUserId: fields["clientUserId"], requestMsg: fields["requestMsg"]))
    }
}

/// Deletion requests: each stays unprocessed for its delay, then is processed, and only then are the subject's
/// profile and accepted events forgotten.
final class PrivacyRequestStore: Sendable {
    private struct Entry {
        var request: SimulatedPrivacyRequest
        var requestedAt: Date
        var dueNanoseconds: UInt64
        var processedAt: Date?
    }

    private let entries = Mutex<(byID: [String: Entry], order: [String])>(([:], []))
    private let profiles: ProfileStore
    private let events: EventStore

    init(profiles: ProfileStore, events: EventStore) {
        self.profiles = profiles
        self.events = events
    }

    /// Files a request processed after `delayMilliseconds`; returns it with its new id.
    func file(_ request: SimulatedPrivacyRequest, delayMilliseconds: Int) -> SimulatedPrivacyRequest {
        var filed = request
        filed.id = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let delay = max(0, delayMilliseconds)
        let due = MonotonicClock.nanoseconds() + UInt64(delay) * 1_000_000
        let entry = Entry(request: filed, requestedAt: Date(), dueNanoseconds: due)
        entries.withLock { state in
            state.byID[filed.id] = entry
            state.order.append(filed.id)
        }
        let id = filed.id
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(delay)) { [self] in
            process(id, evenIfEarly: true)
        }
        return filed
    }

    /// The request's `PrivacyRequestDto`, processing it first when its time has come; nil when unknown.
    func status(_ id: String) -> OrderedJSON? {
        process(id, evenIfEarly: false)
        return entries.withLock { state in state.byID[id].map(PrivacyRequestStore.dto) }
    }

    /// Every request filed, in order.
    func all() -> [SimulatedPrivacyRequest] {
        entries.withLock { state in state.order.compactMap { state.byID[$0]?.request } }
    }

    func removeAll() {
        entries.withLock { $0 = ([:], []) }
    }

    private func process(_ id: String, evenIfEarly: Bool) {
        let subject: SimulatedPrivacyRequest? = entries.withLock { state in
            guard var entry = state.byID[id], !entry.request.processed,
                evenIfEarly || MonotonicClock.nanoseconds() >= entry.dueNanoseconds
            else { return nil }
            entry.request.processed = true
            entry.processedAt = Date()
            state.byID[id] = entry
            return entry.request
        }
        guard let subject else { return }
        profiles.remove(email: subject.subjectEmail, phone: subject.subjectPhone)
        events.removeAll { event in
            let user = event["user"]
            return (subject.subjectEmail != nil && user?["email"]?.stringValue == subject.subjectEmail)
                || (subject.subjectPhone != nil && user?["phone"]?.stringValue == subject.subjectPhone)
                || (subject.clientUserId != nil
                    && user?["externalIdentifiers"]?["clientUserId"]?.stringValue == subject.clientUserId)
        }
    }

    /// `PrivacyRequestDto`; the subject's email and phone are masked as Attentive's example shows them.
    private static func dto(_ entry: Entry) -> OrderedJSON {
        let request = entry.request
        var pairs: [(String, OrderedJSON)] = [
            ("id", .string(request.id)), ("processed", .bool(request.processed)), ("type", .string("DELETE")),
        ]
        if let email = request.subjectEmail { pairs.append(("subjectEmail", .string(maskedEmail(email)))) }
        if let phone = request.subjectPhone { pairs.append(("subjectPhone", .string("+*****" + phone.suffix(4)))) }
        if let message = request.requestMsg { pairs.append(("requestMsg", .string(message))) }
        pairs.append(("requestDateTime", .string(timestamp(entry.requestedAt))))
        if let processedAt = entry.processedAt {
            pairs.append(("processingStartDateTime", .string(timestamp(processedAt))))
            pairs.append(("processingEndDateTime", .string(timestamp(processedAt))))
        }
        return .makeObject(pairs)
    }

    private static func maskedEmail(_ email: String) -> String {
        guard let at = email.firstIndex(of: "@") else { return "***" }
        return String(email.prefix(1)) + "**" + email[at...]
    }

    private static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}

extension SimulatorEngine {
    /// `POST /v1/privacy/delete-request`: validate, file, answer 200 `PrivacyRequestDto` with the new id.
    func fileDeleteRequest(_ body: [UInt8], configuration: SimulatorConfiguration) -> ServerResponse {
        switch PrivacyRequestValidation.validate(body) {
        case .failure(let failure):
            return .json(400, .makeObject([("error", .string(failure.message))]))
        case .success(let request):
            let filed = privacy.file(request, delayMilliseconds: configuration.privacyProcessingDelayMilliseconds)
            return .json(
                200, .makeObject([("id", .string(filed.id)), ("processed", .bool(false)), ("type", .string("DELETE"))]))
        }
    }

    /// `GET /v1/privacy/delete-request/{id}`: the request's `PrivacyRequestDto`, 404 when unknown.
    func deleteRequestStatus(_ id: String) -> ServerResponse {
        guard let dto = privacy.status(id) else { return .error(404, "Privacy request not found: \(id)") }
        return .json(200, dto)
    }
}
