import Foundation

/// What became of a bulk submission (`POST /v2/bulk/user/attributes`).
public enum BulkSubmission: Sendable, Equatable {
    /// Attentive accepted the batch for asynchronous processing; poll ``AttentiveClient/bulkJobStatus(jobId:)``.
    case accepted(jobId: String, attempts: Int)
    /// Attentive refused the batch (non-retryable 4xx), or the client refused it before sending
    /// (status `0`: empty, more than 256 updates, or a record without email and phone).
    case rejected(status: Int, message: String)
    /// Throttling, server errors, timeouts or connection errors outlasted the retries, or the
    /// answer carried no job id.
    case gaveUp(lastStatus: Int?, lastError: String, attempts: Int)
    /// Attentive answered 401 or 403; the client is halted.
    case unauthorized(status: Int, message: String)
    /// Nothing was sent: the client is halted or shutting down.
    case notSent(reason: String)
}

/// The state of a bulk job (`GET /v2/bulk/job/{id}`).
public enum BulkJobStatus: Sendable, Equatable {
    /// Not finished; carries Attentive's status word (`IN_PROGRESS`, `PENDING`, or any word the
    /// client does not know, so a caller polling with a deadline keeps polling).
    case inProgress(String)
    /// Finished; the per-record results file, when Attentive gave one.
    case completed(resultsURL: URL?)
    /// The job failed as a whole; Attentive's status and message.
    case failed(String)
    /// Attentive does not know the job (404).
    case unknownJob
    /// The status could not be read: 401/403 (the client is then halted), other 4xx, retries
    /// exhausted, an unreadable body, or the client halted or shutting down.
    case error(String)
}

/// The outcome of one record of a bulk job, from its results file.
public struct BulkRecordResult: Sendable, Equatable {
    /// The record's position in the submitted batch (0-based), or its line position when the
    /// results file gives no index.
    public var index: Int
    /// The identifiers Attentive reported for the record.
    public var identifiers: AttentiveUser
    /// Whether Attentive applied the record.
    public var succeeded: Bool
    /// Attentive's reason when the record failed.
    public var error: String?

    /// Creates a record result.
    public init(index: Int, identifiers: AttentiveUser, succeeded: Bool, error: String?) {
        self.index = index
        self.identifiers = identifiers
        self.succeeded = succeeded
        self.error = error
    }
}
