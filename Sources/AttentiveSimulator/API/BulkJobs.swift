import Foundation
import Synchronization

/// One record of a bulk submission: what it identified and whether it validated.
struct BulkRecord: Sendable {
    var index: Int
    /// The record's `identifiers` object as submitted (an empty object when missing or not an object).
    var identifiers: OrderedJSON
    var outcome: Result<ProfileUpdate, ValidationFailure>

    /// One line of the results file:
    /// `{"index":n,"identifiers":{...},"status":"SUCCESS"|"FAILURE","error":"..."}` (`error` only on failure).
    var resultLine: OrderedJSON {
        var pairs: [(String, OrderedJSON)] = [("index", .number(String(index))), ("identifiers", identifiers)]
        switch outcome {
        case .success: pairs.append(("status", .string("SUCCESS")))
        case .failure(let failure):
            pairs.append(("status", .string("FAILURE")))
            pairs.append(("error", .string(failure.message)))
        }
        return .makeObject(pairs)
    }
}

/// Parsing of `POST /v2/bulk/user/attributes` bodies (`UserAttributes`).
enum BulkRequestParser {
    /// Most users one bulk request may carry.
    static let maximumUsers = 256

    /// Validates the envelope (400 on failure) and each record (record failures are reported in the results file).
    static func parse(_ body: [UInt8], badIdentities: Set<String>) -> Result<[BulkRecord], ValidationFailure> {
        let document: OrderedJSON
        switch AttributeValidation.jsonObject(body) {
        case .success(let object): document = object
        case .failure(let failure): return .failure(failure)
        }
        guard case .array(let users)? = document["users"] else {
            return .failure(ValidationFailure(message: "users is required and must be an array"))
        }
        guard (1...maximumUsers).contains(users.count) else {
            return .failure(ValidationFailure(message: "users must contain between 1 and \(maximumUsers) items"))
        }
        var records: [BulkRecord] = []
        records.reserveCapacity(users.count)
        for (index, user) in users.enumerated() {
            guard user.objectMembers != nil else {
                return .failure(ValidationFailure(message: "users[\(index)] must be an object"))
            }
            records.append(record(user, index: index, badIdentities: badIdentities))
        }
        return .success(records)
    }

    private static func record(_ user: OrderedJSON, index: Int, badIdentities: Set<String>) -> BulkRecord {
        let identifiers = user["identifiers"]
        let echoed = identifiers?.objectMembers != nil ? identifiers ?? .object([]) : .object([])
        func failed(_ message: String) -> BulkRecord {
            BulkRecord(index: index, identifiers: echoed, outcome: .failure(ValidationFailure(message: message)))
        }
        guard let identifiers, let members = identifiers.objectMembers, !members.isEmpty else {
            return failed("identifiers must be an object with at least one identifier")
        }
        let identity: (email: String?, phone: String?)
        switch AttributeValidation.identifiers(
            email: identifiers["email"], phone: identifiers["phone"], field: "identifiers",
            badIdentities: badIdentities)
        {
        case .failure(let failure):
            return BulkRecord(index: index, identifiers: echoed, outcome: .failure(failure))
        case .success(let parsed): identity = parsed
        }
        var attributes: [(name: String, value: String)] = []
        if let attributeObject = user["attributes"] {
            guard attributeObject.objectMembers != nil else { return failed("attributes must be an object") }
            if let custom = attributeObject["custom"] {
                switch AttributeValidation.attributes(custom, field: "attributes.custom") {
                case .failure(let failure):
                    return BulkRecord(index: index, identifiers: echoed, outcome: .failure(failure))
                case .success(let parsed): attributes = parsed
                }
            }
        }
        let update = ProfileUpdate(email: identity.email, phone: identity.phone, attributes: attributes)
        return BulkRecord(index: index, identifiers: echoed, outcome: .success(update))
    }
}

/// The state of one bulk job as `GET /v2/bulk/job/{id}` reports it.
struct BulkJobProgress: Sendable, Equatable {
    var id: String
    var completed: Bool
    var totalRecords: Int
}

/// Bulk jobs: each stays IN_PROGRESS for its delay, then completes; only then are its valid records applied to the
/// profile store (atomically, in input order) and its results file becomes available.
final class BulkJobStore: Sendable {
    private struct Job {
        var records: [BulkRecord]
        var dueNanoseconds: UInt64
        var results: [UInt8]?
    }

    private let jobs = Mutex<[String: Job]>([:])
    private let profiles: ProfileStore
    private let statistics: StatisticsRecorder

    init(profiles: ProfileStore, statistics: StatisticsRecorder) {
        self.profiles = profiles
        self.statistics = statistics
    }

    /// Registers a job that completes after `delayMilliseconds`; returns its id.
    func submit(_ records: [BulkRecord], delayMilliseconds: Int) -> String {
        let id = UUID().uuidString.lowercased()
        let delay = max(0, delayMilliseconds)
        let due = MonotonicClock.nanoseconds() + UInt64(delay) * 1_000_000
        jobs.withLock { $0[id] = Job(records: records, dueNanoseconds: due, results: nil) }
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(delay)) { [self] in
            complete(id, evenIfEarly: true)
        }
        return id
    }

    /// The job's status, completing it first when its time has come.
    func status(_ id: String) -> BulkJobProgress? {
        complete(id, evenIfEarly: false)
        return jobs.withLock { jobs in
            jobs[id].map { BulkJobProgress(id: id, completed: $0.results != nil, totalRecords: $0.records.count) }
        }
    }

    /// The JSON Lines results of a completed job.
    func results(_ id: String) -> [UInt8]? {
        complete(id, evenIfEarly: false)
        return jobs.withLock { $0[id]?.results }
    }

    /// Completes every job still in progress now, whatever its delay (tests that hold jobs with a long delay).
    /// - Returns: How many jobs it completed.
    @discardableResult
    func completeAll() -> Int {
        let open = jobs.withLock { jobs in jobs.filter { $0.value.results == nil }.map(\.key) }
        for id in open { complete(id, evenIfEarly: true) }
        return open.count
    }

    /// Forgets every job; pending jobs are never applied.
    func removeAll() {
        jobs.withLock { $0.removeAll() }
    }

    /// Completes the job once its delay has passed (the timer passes `evenIfEarly` in case it fires a hair early).
    private func complete(_ id: String, evenIfEarly: Bool) {
        jobs.withLock { jobs in
            guard var job = jobs[id], job.results == nil,
                evenIfEarly || MonotonicClock.nanoseconds() >= job.dueNanoseconds
            else { return }
            var updates: [ProfileUpdate] = []
            var lines: [UInt8] = []
            for record in job.records {
                if case .success(let update) = record.outcome { updates.append(update) }
                lines.append(contentsOf: record.resultLine.serializedBytes())
                lines.append(10)
            }
            profiles.apply(updates)
            statistics.recordAcceptedBulkRecords(updates.count)
            job.results = lines
            jobs[id] = job
        }
    }
}
