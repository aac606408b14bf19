import Foundation
import Postgres
import ReferralModel
import ReferralStore
import Reports

/// What `attributes.csv` added up to: every participant of the shard, and the totals the summary shows.
struct AttributesFileCounts: Sendable {
    var participants = 0
    var totalSuccessfulReferrals = 0
    var totalRevenue = Decimal(0)
    /// Wall seconds of the pass (beside the attribute query and the rejected rows).
    var seconds = 0.0
}

/// Writes `attributes.csv` (every participant's values, in customer order) from its own query
/// (`sql/queries/attributes_file.sql`) on a connection and thread of its own, in the snapshot the refresh
/// exported, while the attribute query streams only the participants with something to send. A quiet night no
/// longer builds and compares a million participants to write a file of their values.
final class AttributesFilePass: @unchecked Sendable {
    private let work: Task<Result<AttributesFileCounts, any Error>, Never>

    /// The columns of `attributes.csv` (a public report: reports/README.md).
    static let header = [
        "customer_id", "email", "phone", "successful_referrals", "latest_successful_referral_at",
        "total_successful_referral_revenue", "currency", "shareable_link",
    ]

    private static let posix = Locale(identifier: "en_US_POSIX")

    /// Imports the snapshot and starts; the connection is the pass's own, closed when it ends. The snapshot must
    /// stay exported until this initializer has returned.
    init(
        connection: PostgresConnection, snapshot: ExportedSnapshot, csvPath: String, shard: Shard, currency: Currency
    ) throws {
        try ParticipantStateStore.importSnapshot(snapshot, on: connection)
        work = BlockingWork.onThread {
            defer {
                try? connection.run("ROLLBACK")
                connection.close()
            }
            return BlockingWork.timed(\.seconds) { () throws -> AttributesFileCounts in
                var counts = AttributesFileCounts()
                let csv = try CSVWriter(path: csvPath, header: Self.header)
                do {
                    try AttributeQuery.forEachFileRow(on: connection, shard: shard) { row in
                        counts.participants += 1
                        counts.totalSuccessfulReferrals += row.successfulReferrals.flatMap { Int($0) } ?? 0
                        if let revenue = row.totalSuccessfulReferralRevenue,
                            let amount = Decimal(string: revenue, locale: Self.posix)
                        {
                            counts.totalRevenue += amount
                        }
                        csv.write([
                            row.customerID, row.email, row.phone, row.successfulReferrals,
                            row.latestSuccessfulReferralAt, row.totalSuccessfulReferralRevenue, currency.code,
                            row.shareableLink,
                        ])
                    }
                } catch {
                    try? csv.close()
                    throw error
                }
                try csv.close()
                return counts
            }
        }
    }

    /// Waits for the file and returns its counts, or the error that stopped it.
    func finish() async -> Result<AttributesFileCounts, any Error> { await work.value }
}
