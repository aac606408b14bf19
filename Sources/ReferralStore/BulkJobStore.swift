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
            CREATE TEMP TABLE IF NOT EXISTS referral_sync_bulk_outcome_batch (
                record_index integer, succeeded boolean, error text, email text, phone text
            ) ON COMMIT DELETE ROWS
            """)
    }

    // MARK: - Submitting

    /// Records a batch before it is submitted: the job row (`submitting`), every record with its full state, and
    /// each changed value as `in_flight` in `referral_sync_pending`. The records are in `participants` order, which
    /// must be the order of the submitted `users` array. One statement (the batch's columns as array parameters),
    /// so one round trip and, by itself, one transaction.
    /// - Returns: The batch id.
    public func recordBatch(_ participants: [ParticipantState], shard: Shard) throws -> Int64 {
        var columns = [[String?]](repeating: [], count: Self.recordColumns)
        for participant in participants {
            for (column, value) in Self.recordRow(participant).enumerated() { columns[column].append(value) }
        }
        let parameters: [String?] =
            [String(runID), shard.description, String(participants.count)] + Self.pendingAttributeNames
            + columns.map(PostgresArray.literal)
        let inserted = try connection.query(Self.recordBatchSQL, parameters)
        guard let batchID = inserted.first?[0].flatMap({ Int64($0) }) else {
            throw PostgresError(code: .unexpectedResponse, message: "INSERT INTO referral_sync_bulk_jobs gave no id")
        }
        return batchID
    }

    /// $4-$7 of ``recordBatchSQL``: the attributes in the order of its `VALUES` list, each with its value column
    /// and its ``OkendoAttribute/maskBit`` (1, 2, 4, 8) beside it.
    static let pendingAttributeNames: [String?] = [
        OkendoAttribute.shareableLink, .successfulReferrals, .latestSuccessfulReferralDate,
        .totalSuccessfulReferralRevenue,
    ].map(\.rawValue)

    /// `recordBatch`'s statement: $1 run, $2 shard, $3 records, $4-$7 the attribute names by mask bit (1, 2, 4,
    /// 8), $8-$19 the records' columns in ``recordRow(_:)`` order. A participant's pending rows are its changed
    /// attributes, in mask-bit order.
    static let recordBatchSQL = """
        WITH job AS (
            INSERT INTO referral_sync_bulk_jobs (run_id, shard, status, records)
            VALUES ($1::bigint, $2, 'submitting', $3::integer) RETURNING batch_id
        ), batch AS (
            SELECT * FROM unnest($8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
                $14::text[], $15::integer[], $16::text[], $17::text[], $18::text[], $19::text[]) WITH ORDINALITY
                AS b(customer_id, email, phone, shareable_link, successful_referrals, latest_at, revenue,
                     changed_mask, previous_shareable_link, previous_successful_referrals, previous_latest_at,
                     previous_revenue, position)
        ), records AS (
            INSERT INTO referral_sync_bulk_records (batch_id, record_index, customer_id, email, phone,
                shareable_link, successful_referrals, latest_successful_referral_at,
                total_successful_referral_revenue, changed_mask, previous_shareable_link,
                previous_successful_referrals, previous_latest_at, previous_revenue)
            SELECT job.batch_id, b.position - 1, b.customer_id, b.email, b.phone, b.shareable_link,
                b.successful_referrals, b.latest_at, b.revenue, b.changed_mask, b.previous_shareable_link,
                b.previous_successful_referrals, b.previous_latest_at, b.previous_revenue
            FROM job, batch b
        ), pending AS (
            INSERT INTO referral_sync_pending AS p (customer_id, attribute, value, state, first_seen_at,
                last_attempt_at, attempts, http_status, error, run_id)
            SELECT b.customer_id, a.attribute, a.value, 'in_flight', now(), now(), 0, NULL,
                'in bulk batch ' || job.batch_id || ', being submitted', $1::bigint
            FROM job, batch b
            CROSS JOIN LATERAL (VALUES (1, $4, b.shareable_link), (2, $5, b.successful_referrals),
                                       (4, $6, b.latest_at), (8, $7, b.revenue)) AS a(bit, attribute, value)
            WHERE b.changed_mask & a.bit <> 0
            ORDER BY b.position, a.bit
            ON CONFLICT (customer_id, attribute) DO UPDATE SET
                value = excluded.value, state = excluded.state, last_attempt_at = excluded.last_attempt_at,
                http_status = NULL, error = excluded.error, run_id = excluded.run_id
        )
        SELECT batch_id FROM job
        """

    /// Records Attentive's 202: the batch is now job `jobID`, in progress. One row: the job's values stay as
    /// `recordBatch` wrote them (`in_flight`, no HTTP status yet) until the job resolves, which writes their
    /// outcome with the submission's attempts, or until the run ends with the job still in progress
    /// (``describeJobsInProgress()``). Rewriting a batch's pending rows here as well cost as much again as
    /// recording the batch.
    public func markSubmitted(batchID: Int64, jobID: String, httpStatus: Int, attempts: Int) throws {
        try connection.execute(
            """
            UPDATE referral_sync_bulk_jobs SET job_id = $2, status = 'in_progress', submitted_at = now(),
                http_status = $3::integer, attempts = $4::integer
            WHERE batch_id = $1::bigint AND status = 'submitting'
            """, [String(batchID), jobID, String(httpStatus), String(attempts)])
    }

    /// Writes, on the pending values of this run's jobs still in progress, which Attentive job holds them, its
    /// HTTP status and the submission's attempts (a pending row whose `http_status` is still `NULL` has not had
    /// them yet). Called once, when the run stops waiting.
    public func describeJobsInProgress() throws {
        try connection.execute(
            """
            UPDATE referral_sync_pending p SET attempts = p.attempts + j.attempts, http_status = j.http_status,
                error = 'in Attentive bulk job ' || j.job_id
            FROM referral_sync_bulk_jobs j JOIN referral_sync_bulk_records r USING (batch_id)
            WHERE j.run_id = $1::bigint AND j.status = 'in_progress' AND r.succeeded IS NULL
              AND p.customer_id = r.customer_id AND p.state = 'in_flight' AND p.http_status IS NULL
            """, [String(runID)])
    }

    /// Records that a batch will never give results: refused, unreachable, failed as a whole, unknown to Attentive,
    /// or never confirmed. Its unresolved records fail with `error`; their values become pending `failed`, so the
    /// next run sends them again (the call is an upsert, so a batch that did reach Attentive does no harm).
    public func markFailed(batchID: Int64, httpStatus: Int?, error: String, attempts: Int) throws {
        let parameters = [String(batchID), error, httpStatus.map(String.init), String(attempts)]
        try connection.transaction {
            // Before the job's row changes: a value not yet given its submission's attempts gets them here.
            try connection.execute(
                """
                UPDATE referral_sync_pending p SET state = 'failed', error = $2, http_status = $3::integer,
                    attempts = p.attempts + $4::integer + CASE WHEN p.http_status IS NULL THEN \(Self.submissionAttempts) ELSE 0 END,
                    last_attempt_at = now()
                WHERE p.customer_id = ANY (\(Self.batchCustomers(where: "succeeded IS NULL")))
                  AND p.state = 'in_flight'
                """, parameters)
            try connection.execute(
                """
                UPDATE referral_sync_bulk_jobs SET status = 'failed', error = $2,
                    http_status = coalesce($3::integer, http_status), attempts = attempts + $4::integer
                WHERE batch_id = $1::bigint AND status IN ('submitting', 'in_progress')
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

    /// The customers of batch `$1` (with `condition` on its records) as an array, so that a statement on
    /// `referral_sync_pending` finds their rows through its primary key. A join with the records instead lets the
    /// planner, which has no statistics on tables that grow during the run, scan all of `referral_sync_pending`
    /// for every batch (a hash join): a run's cost would grow with the square of its participants.
    static func batchCustomers(where condition: String = "true") -> String {
        "ARRAY(SELECT customer_id FROM referral_sync_bulk_records WHERE batch_id = $1::bigint AND \(condition))"
    }

    /// The attempts Attentive's 202 for batch `$1` took (0 while it is `submitting`).
    static let submissionAttempts =
        "coalesce((SELECT attempts FROM referral_sync_bulk_jobs WHERE batch_id = $1::bigint AND status = 'in_progress'), 0)"

    /// How many columns ``recordRow(_:)`` has.
    static let recordColumns = 12

    /// One record's columns as `recordBatch` passes them (its position is its index in the batch).
    static func recordRow(_ participant: ParticipantState) -> [String?] {
        let mask = participant.changedAttributes.reduce(0) { $0 | $1.maskBit }
        let previous = participant.ledgerValues
        return [
            participant.customerID, participant.identity.email, participant.identity.phone,
            participant.values[.shareableLink], participant.values[.successfulReferrals],
            participant.values[.latestSuccessfulReferralDate], participant.values[.totalSuccessfulReferralRevenue],
            String(mask), previous[.shareableLink], previous[.successfulReferrals],
            previous[.latestSuccessfulReferralDate], previous[.totalSuccessfulReferralRevenue],
        ]
    }
}
