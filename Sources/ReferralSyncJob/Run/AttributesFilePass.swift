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
                var total = AmountSum()
                let csv = try CSVWriter(path: csvPath, header: Self.header)
                do {
                    try AttributeQuery.forEachFileRow(on: connection, shard: shard) { row in
                        counts.participants += 1
                        counts.totalSuccessfulReferrals += row.successfulReferrals.flatMap { Int($0) } ?? 0
                        if let revenue = row.totalSuccessfulReferralRevenue { total.add(revenue) }
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
                counts.totalRevenue = total.value
                return counts
            }
        }
    }

    /// Waits for the file and returns its counts, or the error that stopped it.
    func finish() async -> Result<AttributesFileCounts, any Error> { await work.value }
}

/// An exact sum of amounts as the attribute rules print them ("1234.50"), kept in integer millionths: a million
/// `Decimal` parses and additions were a fifth of a quiet night's CPU at a million participants. An amount of
/// another form (a sign, more than 12 digits before the point or 6 after) is added as a `Decimal`, as is the
/// integer sum before it would overflow.
struct AmountSum {
    private var millionths: Int64 = 0
    private var rest = Decimal(0)
    private static let posix = Locale(identifier: "en_US_POSIX")

    /// The sum so far.
    var value: Decimal { rest + Decimal(sign: .plus, exponent: -6, significand: Decimal(millionths)) }

    /// Adds `amount`; text that is not a number adds nothing.
    mutating func add(_ amount: String) {
        guard let parsed = Self.millionths(amount) else {
            if let decimal = Decimal(string: amount, locale: Self.posix) { rest += decimal }
            return
        }
        let (sum, overflow) = millionths.addingReportingOverflow(parsed)
        if overflow {
            rest += Decimal(sign: .plus, exponent: -6, significand: Decimal(millionths))
            millionths = parsed
        } else {
            millionths = sum
        }
    }

    /// `text` in millionths when it is digits with at most one point (at most 12 digits before it and 6 after).
    static func millionths(_ text: String) -> Int64? {
        var value: Int64 = 0
        var whole = 0
        var fraction = -1
        for byte in text.utf8 {
            if byte == UInt8(ascii: ".") {
                guard fraction < 0, whole > 0 else { return nil }
                fraction = 0
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            if fraction >= 0 { fraction += 1 } else { whole += 1 }
            guard whole <= 12, fraction <= 6 else { return nil }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
        }
        guard whole > 0, fraction != 0 else { return nil }
        for _ in 0..<(6 - max(fraction, 0)) { value *= 10 }
        return value
    }
}
