import Foundation
import Postgres
import ReferralStore
import Reports

/// What the rejected-rows pass found: counts for the summary, each table's row accounting, and how long it took.
struct RejectedRowCounts: Sendable {
    var total = 0
    var byReason: [String: Int] = [:]
    var byTable: [String: Int] = [:]
    var byTableAndReason: [String: [String: Int]] = [:]
    /// Each input table's rows read and counted (`sql/queries/row_accounting.sql`), on the same snapshot.
    var accounts: [TableAccount] = []
    /// Wall seconds of the longer of the two queries (they run side by side).
    var seconds = 0.0
}

/// Writes `rejected_rows.csv` and reads the row accounting, each on its own connection and thread, while the
/// attribute query streams on the reader.
///
/// Both read the recompute the run brought up to date (`referral_sync_refresh`), beside the attribute query. All
/// read the same data: each connection imports the reader's snapshot (`pg_export_snapshot` /
/// `SET TRANSACTION SNAPSHOT`), so the rejected rows, the accounting and the attributes are one consistent
/// picture even while the tables change.
///
/// The work runs on dedicated threads (libpq calls block) and never on the Swift concurrency pool, whose threads
/// the requests need.
final class RejectedRowsPass: @unchecked Sendable {
    private let rejected: Task<Result<RejectedRowCounts, Error>, Never>
    private let accounting: Task<Result<([TableAccount], Double), Error>, Never>

    /// Starts both queries; the connections must not be used by anyone else until ``finish()`` returns.
    /// - Parameter snapshot: The exporting transaction's snapshot id; the exporting transaction must stay open
    ///   until this pass has begun (it is imported before this initializer returns).
    init(
        connections: (rejected: PostgresConnection, accounting: PostgresConnection), snapshot: String,
        csvPath: String
    ) throws {
        guard !snapshot.isEmpty, snapshot.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
            throw PostgresError(code: .unexpectedResponse, message: "unexpected snapshot id from the server")
        }
        for connection in [connections.rejected, connections.accounting] {
            try connection.run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try connection.run("SET TRANSACTION SNAPSHOT '\(snapshot)'")
        }
        let rejectedConnection = connections.rejected
        let accountingConnection = connections.accounting
        rejected = Self.onThread {
            Self.writeRejectedRows(on: rejectedConnection, csvPath: csvPath)
        }
        accounting = Self.onThread {
            Self.timed {
                defer { try? accountingConnection.run("ROLLBACK") }
                return try RowAccountingQuery.accounts(on: accountingConnection)
            }
        }
    }

    /// Waits for both queries and returns the counts, or the first error that stopped one.
    func finish() async -> Result<RejectedRowCounts, Error> {
        let rows = await rejected.value
        let accounts = await accounting.value
        do {
            var counts = try rows.get()
            let (tableAccounts, seconds) = try accounts.get()
            counts.accounts = tableAccounts
            counts.seconds = max(counts.seconds, seconds)
            return .success(counts)
        } catch {
            return .failure(error)
        }
    }

    /// Runs `work` on a new thread and gives its result to the returned task.
    private static func onThread<T: Sendable>(_ work: @escaping @Sendable () -> T) -> Task<T, Never> {
        Task.detached {
            await withCheckedContinuation { continuation in
                let thread = Thread { continuation.resume(returning: work()) }
                thread.stackSize = 1 << 20
                thread.start()
            }
        }
    }

    private static func timed<T>(_ work: () throws -> T) -> Result<(T, Double), Error> {
        let clock = ContinuousClock()
        let started = clock.now
        do {
            let value = try work()
            let elapsed = clock.now - started
            return .success(
                (value, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
        } catch {
            return .failure(error)
        }
    }

    private static func writeRejectedRows(
        on connection: PostgresConnection, csvPath: String
    ) -> Result<RejectedRowCounts, Error> {
        let result = timed { () throws -> RejectedRowCounts in
            var counts = RejectedRowCounts()
            let csv = try CSVWriter(path: csvPath, header: ["table", "key", "reason", "detail"])
            do {
                try RejectedRowQuery.forEachRejectedRow(on: connection) { row in
                    counts.total += 1
                    counts.byReason[row.reason, default: 0] += 1
                    counts.byTable[row.table, default: 0] += 1
                    counts.byTableAndReason[row.table, default: [:]][row.reason, default: 0] += 1
                    csv.write([row.table, row.key, row.reason, row.detail])
                }
            } catch {
                try? csv.close()
                throw error
            }
            try? connection.run("ROLLBACK")
            try csv.close()
            return counts
        }
        return result.map { counts, seconds in
            var counts = counts
            counts.seconds = seconds
            return counts
        }
    }
}
