import Postgres

/// One input table's rows as of a run: how many were read, how many count, how many are not participants
/// (customers only), and how many are listed in `rejected_rows.csv`.
public struct TableAccount: Sendable, Equatable {
    /// `customers`, `referrals`, `referral_orders` or `referral_rejections`.
    public var table: String
    /// Every row of the table.
    public var read: Int
    /// The rows that count (README "Rejected rows" says what counting means per table).
    public var counted: Int
    /// Customers who neither opted in nor referred by `--as-of`: read, not an error, nothing to compute.
    public var notParticipants: Int
    /// The rows listed in `rejected_rows.csv`, by reason code.
    public var rejectedByReason: [String: Int]

    public init(table: String, read: Int, counted: Int, notParticipants: Int, rejectedByReason: [String: Int] = [:]) {
        self.table = table
        self.read = read
        self.counted = counted
        self.notParticipants = notParticipants
        self.rejectedByReason = rejectedByReason
    }

    /// The rows listed in `rejected_rows.csv`.
    public var rejected: Int { rejectedByReason.values.reduce(0, +) }

    /// Rows neither counted, nor non-participants, nor rejected: zero unless the definitions disagree.
    public var unaccounted: Int { read - counted - notParticipants - rejected }

    /// The input tables in the order reports show them.
    public static let tables = ["customers", "referrals", "referral_orders", "referral_rejections"]
}

/// Counts each input table's rows read and counted (`sql/queries/row_accounting.sql`).
public enum RowAccountingQuery {
    /// The accounts of the four input tables, without their rejected rows (the caller adds those from
    /// ``RejectedRowQuery``). Run it in the same snapshot as the rejected-row query.
    public static func accounts(on connection: PostgresConnection) throws -> [TableAccount] {
        try connection.query(SQL.rowAccounting).map { row in
            TableAccount(
                table: try row.value("table") ?? "", read: Int(try row.value("read") ?? "") ?? 0,
                counted: Int(try row.value("counted") ?? "") ?? 0,
                notParticipants: Int(try row.value("not_participants") ?? "") ?? 0)
        }
    }
}
