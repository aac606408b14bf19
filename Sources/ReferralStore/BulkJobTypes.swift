import ReferralModel

/// A bulk job that has not resolved yet (`submitting` or `in_progress`).
public struct OpenBulkJob: Sendable, Equatable {
    /// Our id for the batch, known before Attentive answers.
    public var batchID: Int64
    /// Attentive's `batchJobId`; `nil` while the batch is `submitting` (Attentive's answer not recorded).
    public var jobID: String?
    /// The run that submitted it.
    public var runID: Int64
    /// When it was submitted (or recorded, if never confirmed), `YYYY-MM-DDTHH:MM:SS.sssZ`.
    public var since: String
    /// How many records it holds.
    public var records: Int

    public init(batchID: Int64, jobID: String?, runID: Int64, since: String, records: Int) {
        self.batchID = batchID
        self.jobID = jobID
        self.runID = runID
        self.since = since
        self.records = records
    }
}

/// One participant's record in a bulk job that has not resolved: the job, and the values it carries.
public struct InFlightRecord: Sendable, Equatable {
    /// Attentive's job id, or `nil` while its submission is not confirmed.
    public var jobID: String?
    /// Our batch id.
    public var batchID: Int64
    /// When the job was submitted, `YYYY-MM-DDTHH:MM:SS.sssZ`.
    public var since: String
    /// The values the job carries for the attributes it changes (`nil`: the attribute is cleared).
    public var values: [OkendoAttribute: String?]

    /// The job, named for a person: `bulk job 1a2b…` or `bulk batch 12 (submission not confirmed)`.
    public var jobName: String {
        jobID.map { "bulk job \($0)" } ?? "bulk batch \(batchID) (submission not confirmed)"
    }
}

/// The outcome of one record as a job's results file reports it.
public struct BulkRecordOutcome: Sendable, Equatable {
    /// The record's position in the submitted batch.
    public var index: Int
    /// The identifiers the results file names for it, if any (checked against what was sent).
    public var email: String?
    public var phone: String?
    /// Whether Attentive applied the record.
    public var succeeded: Bool
    /// Attentive's reason when it did not.
    public var error: String?

    public init(index: Int, email: String?, phone: String?, succeeded: Bool, error: String?) {
        self.index = index
        self.email = email
        self.phone = phone
        self.succeeded = succeeded
        self.error = error
    }
}

/// A record of one run's bulk jobs with its outcome, for `changes.csv`.
public struct BulkRecordReport: Sendable {
    /// The participant as sent: its values, the changed attributes and what the ledger held for them.
    public var participant: ParticipantState
    /// `submitting`, `in_progress`, `completed` or `failed` (the job's status).
    public var jobStatus: String
    public var jobID: String?
    public var batchID: Int64
    /// The record's outcome once known (`nil` while the job is unresolved).
    public var succeeded: Bool?
    /// Why it failed: the record's error, or the job's.
    public var error: String?
    /// Attentive's answer to the submission, and how many attempts it took.
    public var httpStatus: Int?
    public var attempts: Int
}
