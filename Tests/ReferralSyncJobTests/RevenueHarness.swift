import Foundation
import Postgres
import ReferralSyncJob
import TestSupport

@testable import ReferralSyncCLI

/// Rows for the revenue tests, with the columns the report reads (channel, discount) set per row, inserted as
/// parameters.
struct RevenueRows {
    /// (referral_id, referrer_id, channel, created_at)
    var referrals: [(String, String, String?, String)] = []
    /// (order_id, referral_id, total_price, discount_amount, currency, redeemed_at)
    var orders: [(String, String, String, String, String, String)] = []
    /// (referral_id, rejected_at)
    var rejections: [(String, String)] = []
    var referrers: Set<String> = []

    mutating func referral(_ id: String, by referrer: String, channel: String? = "email", at createdAt: String) {
        referrers.insert(referrer)
        referrals.append((id, referrer, channel, createdAt))
    }

    mutating func order(
        _ id: String, for referral: String, total: String, discount: String = "0", currency: String = "USD",
        at redeemedAt: String
    ) {
        orders.append((id, referral, total, discount, currency, redeemedAt))
    }

    mutating func rejection(of referral: String, at rejectedAt: String) { rejections.append((referral, rejectedAt)) }

    func insert(into database: TestDatabase) throws {
        let connection = try database.connect()
        defer { connection.close() }
        try connection.transaction {
            for referrer in referrers.sorted() {
                try connection.execute(
                    """
                    INSERT INTO customers (customer_id, email, opted_in_at) VALUES ($1, $2, '2024-01-01T00:00:00Z')
                    ON CONFLICT DO NOTHING
                    """, [referrer, "\(referrer)@example.com"])
            }
            for r in referrals {
                try connection.execute(
                    """
                    INSERT INTO referrals (referral_id, referrer_id, recipient_email, channel, created_at)
                    VALUES ($1, $2, $1 || '@friends.example', $3, $4::timestamptz)
                    """, [r.0, r.1, r.2, r.3])
            }
            for o in orders {
                try connection.execute(
                    """
                    INSERT INTO referral_orders (order_id, order_number, referral_id, total_price, discount_amount,
                                                 currency, redeemed_at)
                    VALUES ($1, $1, $2, $3::numeric, $4::numeric, $5, $6::timestamptz)
                    """, [o.0, o.1, o.2, o.3, o.4, o.5])
            }
            for j in rejections {
                try connection.execute(
                    "INSERT INTO referral_rejections (referral_id, rejected_at) VALUES ($1, $2::timestamptz)",
                    [j.0, j.1])
            }
        }
    }
}

/// What one `referral-sync revenue` left.
struct RevenueOutcome {
    var status: ExitStatus
    var message: String
    var reports: ReportFiles?

    /// revenue.csv's rows by `period`.
    func periods() throws -> [[String: String]] { try requireReports(reports).csv("revenue.csv") }

    func markdown() throws -> String { try requireReports(reports).text("revenue.md") }

    /// The "Restated periods" section of revenue.md.
    func restatedSection() throws -> String {
        let text = try markdown()
        guard let start = text.range(of: "## Restated periods"), let end = text.range(of: "## Channels") else {
            return ""
        }
        return String(text[start.lowerBound..<end.lowerBound])
    }
}

func requireReports(_ reports: ReportFiles?) throws -> ReportFiles {
    guard let reports else { throw JobHarness.MissingReports() }
    return reports
}

extension JobHarness {
    /// Runs `referral-sync revenue` in-process into `directory` (the harness's reports folder by default).
    func revenue(_ arguments: [String], directory: String? = nil, environment extra: [String: String] = [:]) async
        -> RevenueOutcome
    {
        let folder = directory ?? reportsDirectory
        let captured = CapturedText()
        let status = await ReferralSyncCommand.$errorOutput.withValue({ captured.append($0) }) {
            await ReferralSyncCommand.main(
                arguments: ["revenue", "--reports-dir", folder] + arguments,
                environment: environment.merging(extra) { $1 }, output: { _ in })
        }
        // The folder `latest` points at now: a later report moves `latest`.
        let latest = (try? FileManager.default.destinationOfSymbolicLink(atPath: folder + "/latest")).map {
            folder + "/" + $0
        }
        let published = latest.map { FileManager.default.fileExists(atPath: $0 + "/revenue.md") } ?? false
        return RevenueOutcome(
            status: status, message: captured.text, reports: published ? latest.map(ReportFiles.init(path:)) : nil)
    }
}

/// The figures of a row, in the columns given, for compact expectations.
func figures(_ row: [String: String]?, _ columns: [String]) -> [String] { columns.map { row?[$0] ?? "<none>" } }
