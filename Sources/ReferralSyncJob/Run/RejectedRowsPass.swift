import Foundation
import Postgres
import ReferralStore
import Reports

/// What the rejected-rows pass found: counts for the summary, each table's row accounting, the warnings, and how
/// long it took.
struct RejectedRowCounts: Sendable {
    var total = 0
    var byReason: [String: Int] = [:]
    var byTable: [String: Int] = [:]
    var byTableAndReason: [String: [String: Int]] = [:]
    /// `warnings.csv`: participants that count and are sent with a warning, by warning code.
    var warningsByReason: [String: Int] = [:]
    /// The participants with at least one warning (a row of `warnings.csv` per warning).
    var participantsWithWarnings = 0
    /// Each input table's rows read and counted (`sql/queries/row_accounting.sql`), on the same snapshot.
    var accounts: [TableAccount] = []
    /// Wall seconds of the three queries, one after the other (beside the attribute query).
    var seconds = 0.0
}

/// Writes `rejected_rows.csv` and `warnings.csv`, then reads the row accounting, on a connection and thread of its
/// own, while the attribute query streams on the reader.
///
/// Both read the recompute the run brought up to date (`referral_sync_refresh`), in the snapshot the refresh
/// exported, which the reader imports too (`SET TRANSACTION SNAPSHOT`): the rejected rows, the accounting and the
/// attributes are one consistent picture even while the tables change.
///
/// The work runs on a dedicated thread (libpq calls block) and never on the Swift concurrency pool, whose threads
/// the requests need.
final class RejectedRowsPass: @unchecked Sendable {
    private let work: Task<Result<RejectedRowCounts, any Error>, Never>

    /// Imports the snapshot and starts; the connection must not be used by anyone else until ``finish()``
    /// returns. The snapshot must stay exported until this initializer has returned.
    init(connection: PostgresConnection, snapshot: ExportedSnapshot, csvPath: String, warningsPath: String) throws {
        try ParticipantStateStore.importSnapshot(snapshot, on: connection)
        work = BlockingWork.onThread {
            defer { try? connection.run("ROLLBACK") }
            return BlockingWork.timed(\.seconds) { () throws -> RejectedRowCounts in
                var counts = RejectedRowCounts()
                try Self.writeListing(.rejectedRows, on: connection, to: csvPath) { row in
                    counts.total += 1
                    counts.byReason[row.reason, default: 0] += 1
                    counts.byTable[row.table, default: 0] += 1
                    counts.byTableAndReason[row.table, default: [:]][row.reason, default: 0] += 1
                }
                var previousKey: String?
                try Self.writeListing(.warnings, on: connection, to: warningsPath) { row in
                    counts.warningsByReason[row.reason, default: 0] += 1
                    // Ordered by key: a participant's warnings are consecutive.
                    if row.key != previousKey { counts.participantsWithWarnings += 1 }
                    previousKey = row.key
                }
                counts.accounts = try RowAccountingQuery.accounts(on: connection)
                return counts
            }
        }
    }

    /// Waits for the queries and returns the counts, or the first error that stopped one.
    func finish() async -> Result<RejectedRowCounts, any Error> { await work.value }

    /// Writes one listing, `rejected_rows.csv` or `warnings.csv` (the same columns), giving each row to `count`.
    private static func writeListing(
        _ listing: RejectedRowQuery.Listing, on connection: PostgresConnection, to path: String,
        count: (RejectedRow) -> Void
    ) throws {
        let csv = try CSVWriter(path: path, header: ["table", "key", "reason", "detail"])
        do {
            try RejectedRowQuery.forEachRow(of: listing, on: connection) { row in
                count(row)
                csv.write([row.table, row.key, row.reason, row.detail])
            }
        } catch {
            try? csv.close()
            throw error
        }
        try csv.close()
    }
}
