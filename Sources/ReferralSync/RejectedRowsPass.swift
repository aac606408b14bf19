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
    var seconds = 0.0
}

/// Writes `rejected_rows.csv` and reads the row accounting on its own connection and thread while the attribute
/// query streams on the reader.
///
/// The rejected-rows and accounting queries are further full passes over the referral history. Run one after
/// the other, the passes cost their sum; run beside the attribute query on a two-core machine, they overlap it. Both read the same data:
/// this pass imports the reader's snapshot (`pg_export_snapshot` / `SET TRANSACTION SNAPSHOT`), so the
/// rejected rows and the attributes are one consistent picture even while the tables change.
///
/// The work runs on a dedicated thread (its libpq calls block) and never on the Swift concurrency pool, whose
/// threads the requests need.
final class RejectedRowsPass: @unchecked Sendable {
    private let task: Task<Result<RejectedRowCounts, Error>, Never>

    /// Starts the pass on `connection`, which must not be used by anyone else until ``finish()`` returns.
    /// - Parameter snapshot: The exporting transaction's snapshot id; the exporting transaction must stay open
    ///   until this pass has begun (it is imported before this initializer returns).
    init(
        connection: PostgresConnection, snapshot: String, parameters: RecomputeParameters, csvPath: String
    ) throws {
        guard !snapshot.isEmpty, snapshot.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
            throw PostgresError(code: .unexpectedResponse, message: "unexpected snapshot id from the server")
        }
        try connection.run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try connection.run("SET TRANSACTION SNAPSHOT '\(snapshot)'")
        task = Task.detached {
            await withCheckedContinuation { continuation in
                let thread = Thread {
                    continuation.resume(returning: Self.run(on: connection, parameters: parameters, csvPath: csvPath))
                }
                thread.stackSize = 1 << 20
                thread.start()
            }
        }
    }

    /// Waits for the pass and returns its counts, or the error that stopped it.
    func finish() async -> Result<RejectedRowCounts, Error> { await task.value }

    private static func run(
        on connection: PostgresConnection, parameters: RecomputeParameters, csvPath: String
    ) -> Result<RejectedRowCounts, Error> {
        let clock = ContinuousClock()
        let started = clock.now
        var counts = RejectedRowCounts()
        let csv: CSVWriter
        do {
            csv = try CSVWriter(path: csvPath, header: ["table", "key", "reason", "detail"])
        } catch {
            return .failure(error)
        }
        do {
            try RejectedRowQuery.forEachRejectedRow(on: connection, parameters) { row in
                counts.total += 1
                counts.byReason[row.reason, default: 0] += 1
                counts.byTable[row.table, default: 0] += 1
                counts.byTableAndReason[row.table, default: [:]][row.reason, default: 0] += 1
                csv.write([row.table, row.key, row.reason, row.detail])
            }
            counts.accounts = try RowAccountingQuery.accounts(on: connection, parameters)
            try? connection.run("ROLLBACK")
            try csv.close()
        } catch {
            try? csv.close()
            return .failure(error)
        }
        let elapsed = clock.now - started
        counts.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return .success(counts)
    }
}
