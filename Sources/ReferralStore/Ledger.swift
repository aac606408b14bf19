import Postgres
import ReferralModel

/// A value that did not reach Attentive this run and stays pending for the next.
public struct PendingValue: Sendable, Equatable {
    public var customerID: String
    public var attribute: OkendoAttribute
    public var value: String?
    public var state: String  // failed, skipped, in_flight or refused
    public var httpStatus: Int?
    public var error: String?
    public var attempts: Int
    /// For a refused value, the identity it was sent to: the refusal stands while value and identity are unchanged.
    public var sentTo: Identity?
    public init(
        customerID: String, attribute: OkendoAttribute, value: String?, state: String, httpStatus: Int?,
        error: String?, attempts: Int
    ) {
        self.customerID = customerID
        self.attribute = attribute
        self.value = value
        self.state = state
        self.httpStatus = httpStatus
        self.error = error
        self.attempts = attempts
    }
}

/// Writes the ledger (what Attentive accepted) and the pending values, in batches on its own connection.
///
/// The ledger rule: a participant's ledger row is replaced by the state that was sent only after Attentive
/// answered 2xx for it. Batches are flushed every `batchSize` records or when ``flush()`` is called; a crash loses
/// at most the unflushed batch, whose values are then sent again by the next run (the API call is an upsert).
public final class LedgerWriter {
    private let connection: PostgresConnection
    private let runID: Int64
    private var accepted: [[String?]] = []
    private var pending: [[String?]] = []
    /// How many records to hold before writing them.
    public var batchSize = 500
    /// How many records to hold when all of them are skipped values: a quiet night at a million participants
    /// records again some 27,000 values it may not send (skipped with their reason), and at 500 a transaction
    /// their 60 commits cost half a second (issue 27). A crash loses nothing of them: the next run finds the same.
    public var skippedOnlyBatchSize = 10_000
    /// Whether a queued record is other than a skipped value (an answer from Attentive, an attempt counted).
    private var holdsAttempts = false

    public init(connection: PostgresConnection, runID: Int64) throws {
        self.connection = connection
        self.runID = runID
        try connection.run(
            """
            CREATE TEMP TABLE IF NOT EXISTS referral_sync_accepted_batch (
                customer_id text, email text, phone text, shareable_link text, successful_referrals text,
                latest_successful_referral_at text, total_successful_referral_revenue text
            ) ON COMMIT DELETE ROWS;
            CREATE TEMP TABLE IF NOT EXISTS referral_sync_pending_batch (
                customer_id text, attribute text, value text, state text, http_status integer, error text,
                attempts integer, sent_email text, sent_phone text
            ) ON COMMIT DELETE ROWS;
            CREATE TEMP TABLE IF NOT EXISTS referral_sync_pending_seen (customer_id text, attribute text);
            TRUNCATE referral_sync_pending_seen
            """)
    }

    /// Queues the participant's whole sent state for the ledger (Attentive answered 2xx).
    public func recordAccepted(_ participant: ParticipantState) throws {
        accepted.append([
            participant.customerID, participant.identity.email, participant.identity.phone,
            participant.values[.shareableLink], participant.values[.successfulReferrals],
            participant.values[.latestSuccessfulReferralDate], participant.values[.totalSuccessfulReferralRevenue],
        ])
        if accepted.count + pending.count >= batchSize { try flush() }
    }

    /// Queues a value that stays pending.
    public func recordPending(_ value: PendingValue) throws {
        pending.append([
            value.customerID, value.attribute.rawValue, value.value, value.state, value.httpStatus.map(String.init),
            value.error, String(value.attempts), value.sentTo?.email, value.sentTo?.phone,
        ])
        if value.state != "skipped" { holdsAttempts = true }
        let limit = accepted.isEmpty && !holdsAttempts ? skippedOnlyBatchSize : batchSize
        if accepted.count + pending.count >= limit { try flush() }
    }

    /// Whether records are waiting to be written.
    public var hasUnflushedRecords: Bool { !accepted.isEmpty || !pending.isEmpty }

    /// Writes the queued records in one transaction.
    public func flush() throws {
        guard hasUnflushedRecords else { return }
        let run = String(runID)
        try connection.transaction {
            if !accepted.isEmpty {
                try connection.copyIn("COPY referral_sync_accepted_batch FROM STDIN", rows: accepted)
                try connection.execute(
                    Self.upsertSQL(
                        selecting: """
                            SELECT customer_id, email, phone, shareable_link, successful_referrals,
                                   latest_successful_referral_at, total_successful_referral_revenue, now(), $1::bigint
                            FROM referral_sync_accepted_batch
                            """), [run])
                try connection.execute(
                    """
                    DELETE FROM referral_sync_pending p USING referral_sync_accepted_batch b
                    WHERE p.customer_id = b.customer_id
                    """)
            }
            if !pending.isEmpty {
                try connection.copyIn("COPY referral_sync_pending_batch FROM STDIN", rows: pending)
                try connection.run(
                    """
                    INSERT INTO referral_sync_pending_seen (customer_id, attribute)
                    SELECT customer_id, attribute FROM referral_sync_pending_batch
                    """)
                try connection.execute(
                    """
                    INSERT INTO referral_sync_pending AS p (customer_id, attribute, value, state, first_seen_at,
                        last_attempt_at, attempts, http_status, error, run_id, refused_at, sent_email, sent_phone)
                    SELECT customer_id, attribute, value, state, now(), now(), attempts, http_status, error, $1::bigint,
                           CASE WHEN state = 'refused' THEN now() END, sent_email, sent_phone
                    FROM referral_sync_pending_batch
                    ON CONFLICT (customer_id, attribute) DO UPDATE SET
                        value = excluded.value, state = excluded.state, last_attempt_at = excluded.last_attempt_at,
                        attempts = p.attempts + excluded.attempts, http_status = excluded.http_status,
                        error = excluded.error, run_id = excluded.run_id,
                        -- The same content refused again (--retry-refused) keeps when it was first refused.
                        refused_at = CASE
                            WHEN excluded.state <> 'refused' THEN NULL
                            WHEN p.state = 'refused' AND (p.value, p.sent_email, p.sent_phone)
                                 IS NOT DISTINCT FROM (excluded.value, excluded.sent_email, excluded.sent_phone)
                                THEN p.refused_at
                            ELSE excluded.refused_at
                        END,
                        sent_email = excluded.sent_email, sent_phone = excluded.sent_phone
                    -- A value skipped again for the same reason is left as it is: rewriting some 27,000 rows
                    -- a night at a million participants left as many dead ones (issue 27). It was seen.
                    WHERE NOT (p.state = 'skipped' AND excluded.state = 'skipped'
                               AND (p.value, p.error) IS NOT DISTINCT FROM (excluded.value, excluded.error))
                    """, [run])
            }
        }
        accepted.removeAll(keepingCapacity: true)
        pending.removeAll(keepingCapacity: true)
        holdsAttempts = false
    }

    /// The statement that writes accepted participants to the ledger: `query` selects, per participant, the
    /// customer id, the identity, the four values as sent, the time and the run (v1 batches and bulk results
    /// share it).
    ///
    /// The rows are read first, as a set of their own (a MATERIALIZED CTE): Citus sends an `INSERT … SELECT`
    /// between two tables of a distributed schema to the store's node with a filter it cannot print when the
    /// statement has parameters or `now()` (`( IS NOT NULL)`: a syntax error there; README "Several workers and a
    /// distributed PostgreSQL").
    static func upsertSQL(selecting query: String) -> String {
        """
        WITH accepted AS MATERIALIZED (\(query))
        INSERT INTO referral_sync_ledger AS l (customer_id, email, phone, shareable_link, successful_referrals,
            latest_successful_referral_at, total_successful_referral_revenue, accepted_at, run_id)
        SELECT * FROM accepted
        ON CONFLICT (customer_id) DO UPDATE SET
            email = excluded.email, phone = excluded.phone, shareable_link = excluded.shareable_link,
            successful_referrals = excluded.successful_referrals,
            latest_successful_referral_at = excluded.latest_successful_referral_at,
            total_successful_referral_revenue = excluded.total_successful_referral_revenue,
            accepted_at = excluded.accepted_at, run_id = excluded.run_id
        """
    }

    /// After a run that looked at every participant: drops pending values this run did not see again (their
    /// change went away, e.g. the value went back to what Attentive holds), and refusals that no longer stand
    /// (the participant's value or identity is not the refused one any more: sql/definitions/86_refusals.sql).
    public func forgetPendingNotSeen(since runStartedBy: Int64) throws {
        // What the run saw is read first, as a set of its own (a MATERIALIZED CTE): Citus deletes from a
        // distributed table only with subqueries on distributed tables or on such sets, never on a temporary table
        // (README "Several workers and a distributed PostgreSQL").
        try connection.execute(
            """
            WITH seen AS MATERIALIZED (SELECT customer_id, attribute FROM pg_temp.referral_sync_pending_seen)
            DELETE FROM referral_sync_pending p
            WHERE p.run_id IS DISTINCT FROM $1::bigint AND p.state <> 'in_flight'
              AND NOT EXISTS (
                  SELECT 1 FROM seen s
                  WHERE s.customer_id = p.customer_id AND s.attribute = p.attribute)
              AND (p.state <> 'refused' OR NOT EXISTS (
                  SELECT 1 FROM referral_sync_participant_values v
                  WHERE v.customer_id = p.customer_id
                    AND referral_sync_standing_refusals(v.customer_id, v.send_email, v.send_phone, v.shareable_link,
                            v.successful_referrals, v.latest_successful_referral_at,
                            v.total_successful_referral_revenue)
                        & referral_sync_attribute_bit(p.attribute) <> 0))
            """,
            [String(runStartedBy)])
    }

    /// How many values are pending (still tried: refused values are not), and since when (the oldest first
    /// failure), for the summary; `byState` counts the refused ones too.
    public func pendingSummary() throws -> (count: Int, oldest: String?, byState: [String: Int]) {
        var byState: [String: Int] = [:]
        var total = 0
        var oldest: String?
        for row in try connection.query(
            """
            SELECT state, count(*) AS count, referral_sync_timestamp(min(first_seen_at)) AS since
            FROM referral_sync_pending GROUP BY state ORDER BY state
            """)
        {
            let count = Int(try row.value("count") ?? "") ?? 0
            let state = try row.value("state") ?? ""
            byState[state] = count
            guard state != "refused" else { continue }
            total += count
            if let since = try row.value("since"), oldest.map({ since < $0 }) ?? true { oldest = since }
        }
        return (total, oldest, byState)
    }
}
