import Postgres
import ReferralModel

extension BulkJobStore {
    /// Jobs not resolved yet, oldest first: every one for a whole run, only its own shard's for a shard run (so a
    /// shard never touches a batch another shard may be submitting right now).
    public func openJobs(collectableBy shard: Shard) throws -> [OpenBulkJob] {
        try connection.query(
            """
            SELECT batch_id, job_id, run_id, referral_sync_timestamp(coalesce(submitted_at, created_at)) AS since,
                   records
            FROM referral_sync_bulk_jobs
            WHERE status IN ('submitting', 'in_progress') AND ($1 = '1/1' OR shard = $1)
            ORDER BY batch_id
            """, [shard.description]
        ).map { row in
            OpenBulkJob(
                batchID: Int64(try row.value("batch_id") ?? "") ?? 0, jobID: try row.value("job_id"),
                runID: Int64(try row.value("run_id") ?? "") ?? 0, since: try row.value("since") ?? "",
                records: Int(try row.value("records") ?? "") ?? 0)
        }
    }

    /// Every participant in a job that has not resolved (of any shard), with the values the job carries. Reads only.
    /// - Parameter customer: Only this participant (`referral-sync explain`); `nil` for every one.
    public static func inFlightParticipants(on connection: PostgresConnection, customer: String? = nil) throws
        -> [String: InFlightRecord]
    {
        var held: [String: InFlightRecord] = [:]
        var columns: (customer: Int, job: Int, batch: Int, since: Int, mask: Int, values: AttributeColumns)?
        try connection.forEachRow(
            """
            SELECT r.customer_id, j.job_id, j.batch_id,
                   referral_sync_timestamp(coalesce(j.submitted_at, j.created_at)) AS since, r.changed_mask,
                   r.shareable_link, r.successful_referrals, r.latest_successful_referral_at,
                   r.total_successful_referral_revenue
            FROM referral_sync_bulk_records r JOIN referral_sync_bulk_jobs j USING (batch_id)
            WHERE j.status IN ('submitting', 'in_progress') AND r.succeeded IS NULL
              AND ($1::text IS NULL OR r.customer_id = $1::text)
            """, [customer]
        ) { row in
            let c =
                try columns
                ?? (
                    row.index(of: "customer_id"), row.index(of: "job_id"), row.index(of: "batch_id"),
                    row.index(of: "since"), row.index(of: "changed_mask"), AttributeColumns(row)
                )
            columns = c
            let sent = c.values.values(of: row)
            var values: [OkendoAttribute: String?] = [:]
            for attribute in OkendoAttribute.attributes(inMask: row.int(c.mask) ?? 0) {
                values[attribute] = sent[attribute]
            }
            held[row[c.customer] ?? ""] = InFlightRecord(
                jobID: row[c.job], batchID: row[c.batch].flatMap { Int64($0) } ?? 0, since: row[c.since] ?? "",
                values: values)
        }
        return held
    }

    /// Every record of the jobs `run` submitted, with its outcome so far, in submission order.
    public func forEachRecord(submittedBy run: Int64, _ body: (BulkRecordReport) throws -> Void) throws {
        var columns: RecordColumns?
        try connection.forEachRow(
            """
            SELECT r.customer_id, r.email, r.phone, r.shareable_link, r.successful_referrals,
                   r.latest_successful_referral_at, r.total_successful_referral_revenue, r.changed_mask,
                   r.previous_shareable_link, r.previous_successful_referrals, r.previous_latest_at,
                   r.previous_revenue, r.succeeded, coalesce(r.error, j.error) AS error, j.status, j.job_id,
                   j.batch_id, j.http_status, j.attempts
            FROM referral_sync_bulk_records r JOIN referral_sync_bulk_jobs j USING (batch_id)
            WHERE j.run_id = $1::bigint
            ORDER BY r.batch_id, r.record_index
            """, [String(run)]
        ) { row in
            let c = try columns ?? RecordColumns(row)
            columns = c
            let participant = ParticipantState(
                customerID: row[c.customer] ?? "", rawEmail: row[c.email], rawPhone: row[c.phone],
                identity: Identity(email: row[c.email], phone: row[c.phone]), values: c.sent.values(of: row),
                ledgerValues: c.previous.values(of: row), hasLedger: false, identityChanged: false,
                changedAttributes: OkendoAttribute.attributes(inMask: row.int(c.mask) ?? 0))
            try body(
                BulkRecordReport(
                    participant: participant, jobStatus: row[c.status] ?? "", jobID: row[c.job],
                    batchID: row[c.batch].flatMap { Int64($0) } ?? 0, succeeded: row.bool(c.succeeded),
                    error: row[c.error], httpStatus: row.int(c.httpStatus), attempts: row.int(c.attempts) ?? 0))
        }
    }

    /// The columns of ``forEachRecord(submittedBy:_:)``'s query, resolved by name once.
    private struct RecordColumns {
        let customer, email, phone, mask, succeeded, error, status, job, batch, httpStatus, attempts: Int
        let sent, previous: AttributeColumns

        init(_ row: PostgresRow) throws {
            customer = try row.index(of: "customer_id")
            email = try row.index(of: "email")
            phone = try row.index(of: "phone")
            mask = try row.index(of: "changed_mask")
            succeeded = try row.index(of: "succeeded")
            error = try row.index(of: "error")
            status = try row.index(of: "status")
            job = try row.index(of: "job_id")
            batch = try row.index(of: "batch_id")
            httpStatus = try row.index(of: "http_status")
            attempts = try row.index(of: "attempts")
            sent = try AttributeColumns(row)
            previous = try AttributeColumns(
                row, link: "previous_shareable_link", count: "previous_successful_referrals",
                latest: "previous_latest_at", revenue: "previous_revenue")
        }
    }
}

/// Where a result holds the four attribute values, by their column names (the ledger's, by default).
struct AttributeColumns {
    let link, count, latest, revenue: Int

    init(
        _ row: PostgresRow, link: String = "shareable_link", count: String = "successful_referrals",
        latest: String = "latest_successful_referral_at", revenue: String = "total_successful_referral_revenue"
    ) throws {
        self.link = try row.index(of: link)
        self.count = try row.index(of: count)
        self.latest = try row.index(of: latest)
        self.revenue = try row.index(of: revenue)
    }

    func values(of row: PostgresRow) -> [OkendoAttribute: String] {
        var values: [OkendoAttribute: String] = [:]
        values[.shareableLink] = row[link]
        values[.successfulReferrals] = row[count]
        values[.latestSuccessfulReferralDate] = row[latest]
        values[.totalSuccessfulReferralRevenue] = row[revenue]
        return values
    }
}
