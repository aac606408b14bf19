import Postgres

extension BulkJobStore {
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
                DELETE FROM referral_sync_pending p
                WHERE p.customer_id = ANY (\(Self.batchCustomers(where: "succeeded")))
                """, [batch])
            try connection.execute(
                """
                UPDATE referral_sync_pending p SET state = 'failed', error = r.error, http_status = NULL,
                    attempts = p.attempts + CASE WHEN p.http_status IS NULL THEN \(Self.submissionAttempts) ELSE 0 END,
                    last_attempt_at = now()
                FROM referral_sync_bulk_records r
                WHERE r.batch_id = $1::bigint AND NOT r.succeeded AND p.customer_id = r.customer_id
                  AND p.customer_id = ANY (\(Self.batchCustomers(where: "NOT succeeded"))) AND p.state = 'in_flight'
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
}
