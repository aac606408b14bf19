import Postgres
import ReferralModel

/// Which slice of the participants a run covers (`--shard K/N`).
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    /// 1-based shard number.
    public var number: Int
    /// How many shards there are.
    public var count: Int
    /// The whole participant set.
    public static let all = Shard(number: 1, count: 1)
    public init(number: Int, count: Int) {
        self.number = number
        self.count = count
    }
    public var description: String { "\(number)/\(count)" }
}

/// The inputs of one recompute: when, in which currency, which shard, and how national phone numbers are read.
public struct RecomputeParameters: Sendable, Equatable {
    public var asOf: Timestamp
    public var currency: Currency
    public var shard: Shard
    /// The region whose national phone numbers are read as E.164 (`US` or `CA`), or `nil` for none.
    public var phoneRegion: String?
    public init(asOf: Timestamp, currency: Currency, shard: Shard = .all, phoneRegion: String? = nil) {
        self.asOf = asOf
        self.currency = currency
        self.shard = shard
        self.phoneRegion = phoneRegion
    }
}

/// Reads the recomputed attributes of every participant, compared with the ledger, in one pass in SQL
/// (`sql/queries/participant_attributes.sql`), from the recompute ``ParticipantStateStore/refresh(on:_:full:)``
/// brought up to date.
public enum AttributeQuery {
    /// The query text, as in `sql/queries/participant_attributes.sql`.
    public static var sql: String { SQL.participantAttributes }

    /// Opens a cursor over every participant of the shard in `customer_id` order. Call inside a transaction,
    /// after a refresh for the same parameters.
    /// - Throws: ``StateMismatch`` when the recompute the transaction sees is not for `parameters`.
    public static func openCursor(
        on connection: PostgresConnection, _ parameters: RecomputeParameters, fetchSize: Int = 5000
    ) throws -> ParticipantCursor {
        try ParticipantStateStore.verify(on: connection, parameters)
        let values: [String?] = [String(parameters.shard.count), String(parameters.shard.number - 1)]
        return ParticipantCursor(
            rows: try RowCursor(
                on: connection, sql: sql, parameters: values, name: "participant_attributes", fetchSize: fetchSize))
    }

    static func participant(from row: PostgresRow) -> ParticipantState {
        var values: [OkendoAttribute: String] = [:]
        values[.shareableLink] = row[5]
        values[.successfulReferrals] = row[6]
        values[.latestSuccessfulReferralDate] = row[7]
        values[.totalSuccessfulReferralRevenue] = row[8]
        var ledger: [OkendoAttribute: String] = [:]
        ledger[.shareableLink] = row[11]
        ledger[.successfulReferrals] = row[12]
        ledger[.latestSuccessfulReferralDate] = row[13]
        ledger[.totalSuccessfulReferralRevenue] = row[14]
        return ParticipantState(
            customerID: row[0] ?? "",
            rawEmail: row[1], rawPhone: row[2],
            identity: Identity(email: row[3], phone: row[4]),
            values: values, ledgerValues: ledger,
            hasLedger: row.bool(15) ?? false,
            identityChanged: row.bool(16) ?? false,
            changedAttributes: OkendoAttribute.attributes(inMask: row.int(17) ?? 0),
            identityProblem: row[18])
    }
}

/// Participants, one at a time, from the attribute query.
public final class ParticipantCursor {
    let rows: RowCursor
    init(rows: RowCursor) { self.rows = rows }
    /// The next participant, or `nil` after the last.
    public func next() throws -> ParticipantState? {
        try rows.next().map(AttributeQuery.participant(from:))
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

/// Reads the input rows that do not count (`sql/queries/rejected_rows.sql`).
public enum RejectedRowQuery {
    /// Streams every rejected row, ordered by table and key, from the recompute the transaction sees (in the
    /// snapshot of a reader that checked it with ``ParticipantStateStore/verify(on:_:)``).
    public static func forEachRejectedRow(
        on connection: PostgresConnection, _ body: (RejectedRow) throws -> Void
    ) throws {
        let sql = SQL.rejectedRows
        try connection.forEachRow(cursor: sql, []) { row in
            try body(RejectedRow(table: row[0] ?? "", key: row[1] ?? "", reason: row[2] ?? "", detail: row[3] ?? ""))
        }
    }
}

/// The currencies present in `referral_orders`, for choosing the shop currency when none is configured.
public func currenciesInOrders(on connection: PostgresConnection) throws -> [String] {
    try connection.query("SELECT DISTINCT currency FROM referral_orders ORDER BY 1").compactMap { $0[0] }
}
