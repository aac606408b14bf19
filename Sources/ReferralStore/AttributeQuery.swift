import Postgres
import ReferralModel

/// Reads the recomputed attributes of every participant, compared with the ledger, in one pass in SQL
/// (`sql/queries/participant_attributes.sql`), from the recompute ``ParticipantStateStore/refresh(on:_:full:)``
/// brought up to date.
public enum AttributeQuery {
    /// The query text, as in `sql/queries/participant_attributes.sql`.
    public static var sql: String { SQL.participantAttributes }

    /// Up to how many candidates a run reads them alone (about a tenth of a million participants, where reading
    /// them by key costs what the merge join over everyone does).
    static let candidatesOnlyBelow = 100_000

    /// The participants the query reads: the kept values, once, in its `FROM`.
    static let participantsSource = "FROM referral_sync_participant_values p\n"

    /// The query over the compare candidates alone (`sql/definitions/87_compare_candidates.sql`): the same text
    /// with its one source of participants joined to the candidates, so a quiet night reads the few whose values
    /// may differ through the keys instead of a million through the ledger's merge join (issue 27).
    static let candidatesSQL: String = {
        let parts = SQL.participantAttributes.components(separatedBy: participantsSource)
        precondition(parts.count == 2, "participant_attributes.sql must read referral_sync_participant_values p once")
        return parts.joined(
            separator: """
                FROM (SELECT candidate_values.* FROM referral_sync_compare_candidates candidate
                      JOIN referral_sync_participant_values candidate_values
                        ON candidate_values.customer_id = candidate.customer_id) p

                """)
    }()

    /// Opens a cursor over every participant of the shard in `customer_id` order. Call inside a transaction,
    /// after a refresh for the same parameters.
    /// - Throws: ``StateMismatch`` when the recompute the transaction sees is not for `parameters`.
    /// - Parameter retryRefused: Whether values whose refusal stands are sent again (`--retry-refused`): they are
    ///   then in `changedAttributes`, not set aside in `refusedAttributes`.
    public static func openCursor(
        on connection: PostgresConnection, _ parameters: RecomputeParameters, retryRefused: Bool = false,
        changedOnly: Bool = false, fetchSize: Int = 5000
    ) throws -> ParticipantCursor {
        try ParticipantStateStore.verify(on: connection, parameters)
        let values: [String?] = [String(parameters.shard.count), String(parameters.shard.number - 1)]
        // `run` streams only the participants with a value to send (any value differing from the ledger: pending
        // and refused values differ too); attributes.csv lists everyone from a query of its own (attributes_file).
        // It compares only the candidates (`sql/definitions/87_compare_candidates.sql`) unless everyone is one, or
        // so many are (runs by shard never settle them) that the merge join over everyone costs no more.
        var query = sql
        if changedOnly {
            let candidatesOnly = try connection.query(
                """
                SELECT NOT s.compare_everyone
                       AND (SELECT count(*) FROM (SELECT 1 FROM referral_sync_compare_candidates LIMIT $1::integer) c)
                           < $1::integer
                FROM referral_sync_state s
                """, [String(candidatesOnlyBelow)]
            ).first?.bool(0)
            if candidatesOnly == true { query = candidatesSQL }
            query = "SELECT * FROM (\n\(query)\n) AS participant WHERE participant.changed_mask <> 0"
        }
        return ParticipantCursor(
            rows: try RowCursor(
                on: connection, sql: query, parameters: values, name: "participant_attributes", fetchSize: fetchSize),
            retryRefused: retryRefused)
    }

    /// One row of `attributes.csv`: a participant's values as the kept recompute holds them.
    public struct FileRow: Sendable {
        public var customerID: String
        public var email: String?
        public var phone: String?
        public var successfulReferrals: String?
        public var latestSuccessfulReferralAt: String?
        public var totalSuccessfulReferralRevenue: String?
        public var shareableLink: String?
    }

    /// Streams every participant of `shard` in customer order (`sql/queries/attributes_file.sql`), in the
    /// connection's snapshot.
    public static func forEachFileRow(
        on connection: PostgresConnection, shard: Shard, _ body: (FileRow) throws -> Void
    ) throws {
        try connection.forEachRow(
            cursor: SQL.attributesFile, [String(shard.count), String(shard.number - 1)]
        ) { row in
            try body(
                FileRow(
                    customerID: row[0] ?? "", email: row[1], phone: row[2], successfulReferrals: row[3],
                    latestSuccessfulReferralAt: row[4], totalSuccessfulReferralRevenue: row[5], shareableLink: row[6]))
        }
    }

    /// The columns of `sql/queries/participant_attributes.sql` the reader uses, resolved by name once per result.
    struct Columns {
        let customerID, email, phone, sendEmail, sendPhone: Int
        let link, count, latest, revenue, ledgerLink, ledgerCount, ledgerLatest, ledgerRevenue: Int
        let hasLedger, identityChanged, changedMask, problem, refusedMask: Int

        /// - Throws: `PostgresError` naming the first column the query does not return.
        init(_ row: PostgresRow) throws {
            customerID = try row.index(of: "customer_id")
            email = try row.index(of: "email")
            phone = try row.index(of: "phone")
            sendEmail = try row.index(of: "send_email")
            sendPhone = try row.index(of: "send_phone")
            link = try row.index(of: "shareable_link")
            count = try row.index(of: "successful_referrals")
            latest = try row.index(of: "latest_at")
            revenue = try row.index(of: "revenue")
            ledgerLink = try row.index(of: "l_link")
            ledgerCount = try row.index(of: "l_count")
            ledgerLatest = try row.index(of: "l_latest")
            ledgerRevenue = try row.index(of: "l_revenue")
            hasLedger = try row.index(of: "has_ledger")
            identityChanged = try row.index(of: "identity_changed")
            changedMask = try row.index(of: "changed_mask")
            problem = try row.index(of: "problem_detail")
            refusedMask = try row.index(of: "refused_mask")
        }

        /// - Parameter retryRefused: Whether values whose refusal stands are to be sent all the same.
        func participant(from row: PostgresRow, retryRefused: Bool = false) -> ParticipantState {
            var values: [OkendoAttribute: String] = [:]
            values[.shareableLink] = row[link]
            values[.successfulReferrals] = row[count]
            values[.latestSuccessfulReferralDate] = row[latest]
            values[.totalSuccessfulReferralRevenue] = row[revenue]
            var ledger: [OkendoAttribute: String] = [:]
            ledger[.shareableLink] = row[ledgerLink]
            ledger[.successfulReferrals] = row[ledgerCount]
            ledger[.latestSuccessfulReferralDate] = row[ledgerLatest]
            ledger[.totalSuccessfulReferralRevenue] = row[ledgerRevenue]
            let changed = row.int(changedMask) ?? 0
            let refused = retryRefused ? 0 : changed & (row.int(refusedMask) ?? 0)
            var participant = ParticipantState(
                customerID: row[customerID] ?? "",
                rawEmail: row[email], rawPhone: row[phone],
                identity: Identity(email: row[sendEmail], phone: row[sendPhone]),
                values: values, ledgerValues: ledger,
                hasLedger: row.bool(hasLedger) ?? false,
                identityChanged: row.bool(identityChanged) ?? false,
                changedAttributes: OkendoAttribute.attributes(inMask: changed & ~refused),
                identityProblem: row[problem])
            participant.refusedAttributes = OkendoAttribute.attributes(inMask: refused)
            return participant
        }
    }
}

/// Participants, one at a time, from the attribute query.
public final class ParticipantCursor {
    let rows: RowCursor
    /// Resolved from the first row; every batch of the cursor has the same columns.
    private var columns: AttributeQuery.Columns?
    private let retryRefused: Bool
    init(rows: RowCursor, retryRefused: Bool = false) {
        self.rows = rows
        self.retryRefused = retryRefused
    }
    /// The next participant, or `nil` after the last.
    /// - Throws: `PostgresError`, also when the query lacks a column the reader needs (named in the message).
    public func next() throws -> ParticipantState? {
        guard let row = try rows.next() else { return nil }
        let resolved = try columns ?? AttributeQuery.Columns(row)
        columns = resolved
        return resolved.participant(from: row, retryRefused: retryRefused)
    }
    /// Closes the cursor.
    public func close() throws { try rows.close() }
}

/// One input row that does not count, and why.
public struct RejectedRow: Sendable, Equatable {
    /// The input table: `customers`, `referrals`, `referral_orders` or `referral_rejections`.
    public var table: String
    /// The row's primary key.
    public var key: String
    /// A stable reason code (README "Rejected rows").
    public var reason: String
    /// The reason in words, with the values involved.
    public var detail: String
    public init(table: String, key: String, reason: String, detail: String) {
        self.table = table
        self.key = key
        self.reason = reason
        self.detail = detail
    }
}

/// Reads the input rows that do not count (`sql/queries/rejected_rows.sql`) and the participants sent with a
/// warning (`sql/queries/warnings.sql`): the same four columns.
public enum RejectedRowQuery {
    /// Which listing to read.
    public enum Listing: Sendable {
        /// Every rejected row (`rejected_rows.csv`), ordered by table and key.
        case rejectedRows
        /// Every warning (`warnings.csv`: a participant that counts and is sent, with an identity left out or a
        /// link changed or too long), ordered by key and reason; `reason` is the warning's code.
        case warnings
    }

    /// Streams the rows of `listing` from the recompute the transaction sees (in the snapshot of a reader that
    /// checked it with ``ParticipantStateStore/verify(on:_:)``).
    public static func forEachRow(
        of listing: Listing, on connection: PostgresConnection, _ body: (RejectedRow) throws -> Void
    ) throws {
        let query: String
        switch listing {
        case .rejectedRows: query = SQL.rejectedRows
        case .warnings:
            // The planner cannot know how few rows the first pass keeps: compiling for its estimate costs more
            // than the query (sql/queries/warnings.sql).
            try connection.run("SET LOCAL jit = off")
            query = SQL.warnings
        }
        var columns: (table: Int, key: Int, reason: Int, detail: Int)?
        try connection.forEachRow(cursor: query, []) { row in
            let c =
                try columns ?? (
                    row.index(of: "table"), row.index(of: "key"), row.index(of: "reason"), row.index(of: "detail")
                )
            columns = c
            try body(
                RejectedRow(
                    table: row[c.table] ?? "", key: row[c.key] ?? "", reason: row[c.reason] ?? "",
                    detail: row[c.detail] ?? ""))
        }
    }
}

/// The currencies present in `referral_orders`, for choosing the shop currency when none is configured.
public func currenciesInOrders(on connection: PostgresConnection) throws -> [String] {
    try connection.query("SELECT DISTINCT currency FROM referral_orders ORDER BY 1").compactMap { $0[0] }
}
