import Postgres
import ReferralModel

/// The bulk jobs in PostgreSQL (`referral_sync_bulk_jobs`, `referral_sync_bulk_records`, migration 0004) and the
/// ledger and pending writes their outcomes cause. Each method is one transaction, so a stop between any two leaves
/// a state the next run can continue from; see README "Bulk mode".
public final class BulkJobStore {
    let connection: PostgresConnection
    let runID: Int64

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

    /// One row of `referral_sync_bulk_record_batch` (the COPY into `referral_sync_bulk_records`).
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
