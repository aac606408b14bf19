import Postgres
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

/// The bulk jobs in PostgreSQL (`referral_sync_bulk_jobs`, `referral_sync_bulk_records`, migration 0004) and the
/// ledger and pending writes their outcomes cause. Each method is one transaction, so a stop between any two leaves
/// a state the next run can continue from; see README "Bulk mode".
public final class BulkJobStore {
    private let connection: PostgresConnection
    private let runID: Int64

    /// - Parameters:
    ///   - connection: The run's writing connection (used by one task at a time).
    ///   - runID: The run that submits, polls and applies.
    public init(connection: PostgresConnection, runID: Int64) throws {
        self.connection = connection
        self.runID = runID
        try connection.run(
            """
            CREATE TEMP TABLE IF NOT EXISTS referral_sync_bulk_record_batch (
                record_index integer, customer_id text, email text, phone text, shareable_link text,
                successful_referrals text, latest_successful_referral_at text, total_successful_referral_revenue text,
                changed_mask integer, previous_shareable_link text, previous_successful_referrals text,
                previous_latest_at text, previous_revenue text
            ) ON COMMIT DELETE ROWS;
            CREATE TEMP TABLE IF NOT EXISTS referral_sync_bulk_pending_batch (
                customer_id text, attribute text, value text
            ) ON COMMIT DELETE ROWS;
            CREATE TEMP TABLE IF NOT EXISTS referral_sync_bulk_outcome_batch (
                record_index integer, succeeded boolean, error text, email text, phone text
            ) ON COMMIT DELETE ROWS
            """)
    }

    // MARK: - Submitting

    /// Records a batch before it is submitted: the job row (`submitting`), every record with its full state, and
    /// each changed value as `in_flight` in `referral_sync_pending`. The records are in `participants` order, which
    /// must be the order of the submitted `users` array.
    /// - Returns: The batch id.
    public func recordBatch(_ participants: [ParticipantState], shard: Shard) throws -> Int64 {
        try connection.transaction {
            let inserted = try connection.query(
                """
                INSERT INTO referral_sync_bulk_jobs (run_id, shard, status, records)
                VALUES ($1::bigint, $2, 'submitting', $3::integer) RETURNING batch_id
                """, [String(runID), shard.description, String(participants.count)])
            guard let batchID = inserted.first?[0].flatMap({ Int64($0) }) else {
                throw PostgresError(
                    code: .unexpectedResponse, message: "INSERT INTO referral_sync_bulk_jobs gave no id")
            }
            try connection.copyIn(
                "COPY referral_sync_bulk_record_batch FROM STDIN",
                rows: participants.enumerated().map { index, participant in Self.recordRow(index, participant) })
            try connection.execute(
                "INSERT INTO referral_sync_bulk_records SELECT $1::bigint, *, NULL, NULL FROM referral_sync_bulk_record_batch",
                [String(batchID)])
            let pendingRows: [[String?]] = participants.flatMap { participant in
                participant.changedAttributes.map { [participant.customerID, $0.rawValue, participant.values[$0]] }
            }
            try connection.copyIn("COPY referral_sync_bulk_pending_batch FROM STDIN", rows: pendingRows)
            try connection.execute(
                """
                INSERT INTO referral_sync_pending AS p (customer_id, attribute, value, state, first_seen_at,
                    last_attempt_at, attempts, http_status, error, run_id)
                SELECT customer_id, attribute, value, 'in_flight', now(), now(), 0, NULL, $2, $1::bigint
                FROM referral_sync_bulk_pending_batch
                ON CONFLICT (customer_id, attribute) DO UPDATE SET
                    value = excluded.value, state = excluded.state, last_attempt_at = excluded.last_attempt_at,
                    http_status = NULL, error = excluded.error, run_id = excluded.run_id
                """, [String(runID), "in bulk batch \(batchID), being submitted"])
            return batchID
        }
    }

    /// Records Attentive's 202: the batch is now job `jobID`, in progress.
    public func markSubmitted(batchID: Int64, jobID: String, httpStatus: Int, attempts: Int) throws {
        try connection.transaction {
            try connection.execute(
                """
                UPDATE referral_sync_bulk_jobs SET job_id = $2, status = 'in_progress', submitted_at = now(),
                    http_status = $3::integer, attempts = $4::integer
                WHERE batch_id = $1::bigint AND status = 'submitting'
                """, [String(batchID), jobID, String(httpStatus), String(attempts)])
            try connection.execute(
                """
                UPDATE referral_sync_pending p SET attempts = p.attempts + $3::integer, http_status = $4::integer,
                    error = $2
                FROM referral_sync_bulk_records r
                WHERE r.batch_id = $1::bigint AND p.customer_id = r.customer_id AND p.state = 'in_flight'
                """, [String(batchID), "in Attentive bulk job \(jobID)", String(attempts), String(httpStatus)])
        }
    }

    /// Records that a batch will never give results: refused, unreachable, failed as a whole, unknown to Attentive,
    /// or never confirmed. Its unresolved records fail with `error`; their values become pending `failed`, so the
    /// next run sends them again (the call is an upsert, so a batch that did reach Attentive does no harm).
    public func markFailed(batchID: Int64, httpStatus: Int?, error: String, attempts: Int) throws {
        let parameters = [String(batchID), error, httpStatus.map(String.init), String(attempts)]
        try connection.transaction {
            try connection.execute(
                """
                UPDATE referral_sync_bulk_jobs SET status = 'failed', error = $2,
                    http_status = coalesce($3::integer, http_status), attempts = attempts + $4::integer
                WHERE batch_id = $1::bigint AND status IN ('submitting', 'in_progress')
                """, parameters)
            try connection.execute(
                """
                UPDATE referral_sync_pending p SET state = 'failed', error = $2, http_status = $3::integer,
                    attempts = p.attempts + $4::integer, last_attempt_at = now()
                FROM referral_sync_bulk_records r
                WHERE r.batch_id = $1::bigint AND r.succeeded IS NULL AND p.customer_id = r.customer_id
                  AND p.state = 'in_flight'
                """, parameters)
            try connection.execute(
                """
                UPDATE referral_sync_bulk_records SET succeeded = false, error = $2
                WHERE batch_id = $1::bigint AND succeeded IS NULL
                """, [String(batchID), error])
        }
    }

    /// Records a poll that found the job still in progress (or its status unreadable).
    public func recordPoll(batchID: Int64, attentiveStatus: String) throws {
        try connection.execute(
            """
            UPDATE referral_sync_bulk_jobs SET polls = polls + 1, last_polled_at = now(), attentive_status = $2
            WHERE batch_id = $1::bigint
            """, [String(batchID), attentiveStatus])
    }

    // MARK: - Applying results

    /// Applies a completed job's per-record results in one transaction: each record that Attentive reports applied,
    /// for the user it was sent for, goes to the ledger with the participant's full sent state and leaves
    /// `referral_sync_pending`; every other record (reported failed, naming another user, or missing from the
    /// results) becomes pending `failed` with the reason. Applying a job twice changes nothing.
    /// - Returns: How many records succeeded and failed, or `nil` when the job was already resolved.
    @discardableResult
    public func applyResults(batchID: Int64, attentiveStatus: String, outcomes: [BulkRecordOutcome]) throws
        -> (succeeded: Int, failed: Int)?
    {
        let batch = String(batchID)
        return try connection.transaction {
            let status = try connection.query(
                "SELECT status FROM referral_sync_bulk_jobs WHERE batch_id = $1::bigint FOR UPDATE", [batch])
            guard status.first?[0] == "in_progress" else { return nil }
            try connection.copyIn(
                "COPY referral_sync_bulk_outcome_batch FROM STDIN",
                rows: outcomes.map { [String($0.index), $0.succeeded ? "t" : "f", $0.error, $0.email, $0.phone] })
            try connection.execute(
                """
                WITH o AS (
                    SELECT DISTINCT ON (b.record_index) b.record_index, b.succeeded, b.error, b.email, b.phone,
                           (b.email IS NULL OR lower(b.email) IS NOT DISTINCT FROM lower(r.email))
                           AND (b.phone IS NULL OR b.phone IS NOT DISTINCT FROM r.phone) AS same_user
                    FROM referral_sync_bulk_outcome_batch b
                    JOIN referral_sync_bulk_records r ON r.batch_id = $1::bigint AND r.record_index = b.record_index
                    ORDER BY b.record_index, b.succeeded  -- a record reported both ways counts as failed
                )
                UPDATE referral_sync_bulk_records r SET
                    succeeded = o.succeeded AND o.same_user,
                    error = CASE WHEN NOT o.succeeded
                                     THEN coalesce(nullif(o.error, ''), 'Attentive reported the record as not applied')
                                 WHEN NOT o.same_user
                                     THEN 'the results file names another user for this record ('
                                          || coalesce(o.email, o.phone, '?') || ')' END
                FROM o
                WHERE r.batch_id = $1::bigint AND r.record_index = o.record_index AND r.succeeded IS NULL
                """, [batch])
            try connection.execute(
                """
                UPDATE referral_sync_bulk_records SET succeeded = false,
                    error = 'the results file has no line for this record'
                WHERE batch_id = $1::bigint AND succeeded IS NULL
                """, [batch])
            try connection.execute(
                LedgerWriter.upsertSQL(
                    selecting: """
                        SELECT customer_id, email, phone, shareable_link, successful_referrals,
                               latest_successful_referral_at, total_successful_referral_revenue, now(), $2::bigint
                        FROM referral_sync_bulk_records WHERE batch_id = $1::bigint AND succeeded
                        """), [batch, String(runID)])
            try connection.execute(
                """
                DELETE FROM referral_sync_pending p USING referral_sync_bulk_records r
                WHERE r.batch_id = $1::bigint AND r.succeeded AND p.customer_id = r.customer_id
                """, [batch])
            try connection.execute(
                """
                UPDATE referral_sync_pending p SET state = 'failed', error = r.error, http_status = NULL,
                    last_attempt_at = now()
                FROM referral_sync_bulk_records r
                WHERE r.batch_id = $1::bigint AND NOT r.succeeded AND p.customer_id = r.customer_id
                  AND p.state = 'in_flight'
                """, [batch])
            try connection.execute(
                """
                UPDATE referral_sync_bulk_jobs SET status = 'completed', results_applied_at = now(),
                    attentive_status = $2, polls = polls + 1, last_polled_at = now()
                WHERE batch_id = $1::bigint
                """, [batch, attentiveStatus])
            let counts = try connection.query(
                "SELECT count(*) FILTER (WHERE succeeded), count(*) FILTER (WHERE NOT succeeded) "
                    + "FROM referral_sync_bulk_records WHERE batch_id = $1::bigint", [batch])
            return (counts.first?.int(0) ?? 0, counts.first?.int(1) ?? 0)
        }
    }

    // MARK: - Reading

    /// Jobs not resolved yet, oldest first: every one for a whole run, only its own shard's for a shard run (so a
    /// shard never touches a batch another shard may be submitting right now).
    public func openJobs(collectableBy shard: Shard) throws -> [OpenBulkJob] {
        try connection.query(
            """
            SELECT batch_id, job_id, run_id, referral_sync_timestamp(coalesce(submitted_at, created_at)), records
            FROM referral_sync_bulk_jobs
            WHERE status IN ('submitting', 'in_progress') AND ($1 = '1/1' OR shard = $1)
            ORDER BY batch_id
            """, [shard.description]
        ).map { row in
            OpenBulkJob(
                batchID: row[0].flatMap { Int64($0) } ?? 0, jobID: row[1], runID: row[2].flatMap { Int64($0) } ?? 0,
                since: row[3] ?? "", records: row.int(4) ?? 0)
        }
    }

    /// Every participant in a job that has not resolved (of any shard), with the values the job carries. Reads only.
    public static func inFlightParticipants(on connection: PostgresConnection) throws -> [String: InFlightRecord] {
        var held: [String: InFlightRecord] = [:]
        try connection.forEachRow(
            """
            SELECT r.customer_id, j.job_id, j.batch_id, referral_sync_timestamp(coalesce(j.submitted_at, j.created_at)),
                   r.changed_mask, r.shareable_link, r.successful_referrals, r.latest_successful_referral_at,
                   r.total_successful_referral_revenue
            FROM referral_sync_bulk_records r JOIN referral_sync_bulk_jobs j USING (batch_id)
            WHERE j.status IN ('submitting', 'in_progress') AND r.succeeded IS NULL
            """
        ) { row in
            let sent = Self.values(row, from: 5)
            var values: [OkendoAttribute: String?] = [:]
            for attribute in OkendoAttribute.attributes(inMask: row.int(4) ?? 0) { values[attribute] = sent[attribute] }
            held[row[0] ?? ""] = InFlightRecord(
                jobID: row[1], batchID: row[2].flatMap { Int64($0) } ?? 0, since: row[3] ?? "", values: values)
        }
        return held
    }

    /// Every record of the jobs `run` submitted, with its outcome so far, in submission order.
    public func forEachRecord(submittedBy run: Int64, _ body: (BulkRecordReport) throws -> Void) throws {
        try connection.forEachRow(
            """
            SELECT r.customer_id, r.email, r.phone, r.shareable_link, r.successful_referrals,
                   r.latest_successful_referral_at, r.total_successful_referral_revenue, r.changed_mask,
                   r.previous_shareable_link, r.previous_successful_referrals, r.previous_latest_at,
                   r.previous_revenue, r.succeeded, coalesce(r.error, j.error), j.status, j.job_id, j.batch_id,
                   j.http_status, j.attempts
            FROM referral_sync_bulk_records r JOIN referral_sync_bulk_jobs j USING (batch_id)
            WHERE j.run_id = $1::bigint
            ORDER BY r.batch_id, r.record_index
            """, [String(run)]
        ) { row in
            let participant = ParticipantState(
                customerID: row[0] ?? "", rawEmail: row[1], rawPhone: row[2],
                identity: Identity(email: row[1], phone: row[2]), values: Self.values(row, from: 3),
                ledgerValues: Self.values(row, from: 8), hasLedger: false, identityChanged: false,
                changedAttributes: OkendoAttribute.attributes(inMask: row.int(7) ?? 0))
            try body(
                BulkRecordReport(
                    participant: participant, jobStatus: row[14] ?? "", jobID: row[15],
                    batchID: row[16].flatMap { Int64($0) } ?? 0, succeeded: row.bool(12), error: row[13],
                    httpStatus: row.int(17), attempts: row.int(18) ?? 0))
        }
    }

    // MARK: - Rows

    /// The four attribute values in `row` starting at column `first`, in the ledger's column order.
    static func values(_ row: PostgresRow, from first: Int) -> [OkendoAttribute: String] {
        var values: [OkendoAttribute: String] = [:]
        values[.shareableLink] = row[first]
        values[.successfulReferrals] = row[first + 1]
        values[.latestSuccessfulReferralDate] = row[first + 2]
        values[.totalSuccessfulReferralRevenue] = row[first + 3]
        return values
    }

    static func recordRow(_ index: Int, _ participant: ParticipantState) -> [String?] {
        let mask = participant.changedAttributes.reduce(0) { $0 | $1.maskBit }
        let previous = participant.ledgerValues
        return [
            String(index), participant.customerID, participant.identity.email, participant.identity.phone,
            participant.values[.shareableLink], participant.values[.successfulReferrals],
            participant.values[.latestSuccessfulReferralDate], participant.values[.totalSuccessfulReferralRevenue],
            String(mask), previous[.shareableLink], previous[.successfulReferrals],
            previous[.latestSuccessfulReferralDate], previous[.totalSuccessfulReferralRevenue],
        ]
    }
}
