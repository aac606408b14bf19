import Attentive
import Foundation
import Postgres
import ReferralStore

/// Attentive's side of an erasure (`forget --request-deletion`): one deletion request per identity, each id recorded
/// (migration 0014) with the identity's salted hash, never the identity.
struct DeletionRequestFiling {
    /// The ids filed, in order, and how many identities could not be requested (each logged without the identity).
    struct Filed {
        var requestIDs: [String] = []
        var failed = 0
    }

    let context: JobContext
    let session: Session

    /// Files a request for each normalised email and phone, one at a time (paced and retried by the client).
    func file(emails: [String], phones: [String]) async throws -> Filed {
        let client = AttentiveClient(configuration: context.clientConfiguration())
        // The audit message names the run, never the person.
        let message = "referral-sync forget, run \(context.runKey)"
        var filed = Filed()
        let identities =
            emails.map { ("email", DeletionSubject.email($0), $0) }
            + phones.map { ("phone", DeletionSubject.phone($0), $0) }
        for (kind, subject, identity) in identities {
            switch await client.requestDeletion(of: subject, message: message) {
            case .success(let id):
                try DeletionRequestStore.record(
                    requestID: id, kind: kind, identity: identity, runID: session.runID, on: session.writer)
                filed.requestIDs.append(id)
            case .failure(let error):
                filed.failed += 1
                context.logger.warning(
                    "Attentive's deletion request could not be filed", [("kind", kind), ("error", error.description)])
            }
        }
        return filed
    }
}

/// What `forget --status` says about one recorded deletion request.
public struct DeletionRequestReport: Sendable, Equatable {
    /// Attentive's id of the request.
    public var requestID: String
    /// The kind of identity it names (`email` or `phone`), never the identity.
    public var kind: String
    /// When it was filed (UTC, ISO 8601).
    public var filedAt: String
    /// Attentive's `processed`; nil when it could not be read (then ``problem`` says why).
    public var processed: Bool?
    public var problem: String?

    /// One line: `REQUEST_ID  filed FILED_AT  KIND  processed|not processed|unreadable: WHY`.
    public var line: String {
        let state = processed.map { $0 ? "processed" : "not processed" } ?? "unreadable: \(problem ?? "")"
        return "\(requestID)  filed \(filedAt)  \(kind)  \(state)"
    }
}

extension SyncRun {
    /// `referral-sync forget --status`: every recorded deletion request with its `processed` state from
    /// `GET /v1/privacy/delete-request/{id}`. Reads only: no lock, no run history row.
    public func deletionRequestStatus() async -> Result<[DeletionRequestReport], JobError> {
        let context = self.context
        return await PipelineThread.run {
            do {
                let connection = try context.connect()
                defer { connection.close() }
                try Migrations.verify(on: connection)
                let recorded = try DeletionRequestStore.all(on: connection)
                let client = AttentiveClient(configuration: context.clientConfiguration())
                var reports: [DeletionRequestReport] = []
                for request in recorded {
                    var report = DeletionRequestReport(
                        requestID: request.requestID, kind: request.kind, filedAt: request.filedAt)
                    switch await client.deletionStatus(requestId: request.requestID) {
                    case .success(let status): report.processed = status.processed
                    case .failure(let error): report.problem = error.description
                    }
                    reports.append(report)
                }
                return .success(reports)
            } catch {
                return .failure(JobError(classifying: error))
            }
        }
    }
}
