import Foundation
import Reports

/// How `referral-sync explain` prints: GitHub-flavoured Markdown (for people), CSV (one row per referral and
/// order) or one JSON document (for scripts and support tools).
public enum ExplainFormat: String, Sendable, CaseIterable {
    case markdown, csv, json
}

extension CustomerExplanation {
    /// The explanation in `format`, ending with a newline.
    public func rendered(_ format: ExplainFormat) -> String {
        switch format {
        case .markdown: markdown()
        case .csv: csv()
        case .json: json()
        }
    }

    /// The columns of `--format csv`, in order.
    public static let csvHeader = [
        "customer_id", "referral_id", "recipient_email", "recipient_customer_id", "channel", "referral_created_at",
        "referral_counts", "referral_status", "referral_reason_code", "referral_reason", "rejection_type",
        "rejection_reason", "rejected_at", "order_id", "order_number", "total_price", "discount_amount", "currency",
        "redeemed_at", "order_counts", "order_reason_code", "order_reason",
    ]

    /// One row per order, and one per referral without orders (its order columns empty); RFC 4180 with the
    /// spreadsheet-formula guard of the reports (``CSVWriter/escape(_:)``).
    func csv() -> String {
        var lines = [Self.csvHeader.map(CSVWriter.escape).joined(separator: ",")]
        for referral in referrals {
            let head: [String?] = [
                customer.customerID, referral.referralID, referral.recipientEmail, referral.recipientCustomerID,
                referral.channel, referral.createdAt, String(referral.counts), referral.status, referral.reasonCode,
                referral.reason, referral.rejection?.type, referral.rejection?.reason, referral.rejection?.rejectedAt,
            ]
            let orders: [[String?]] =
                referral.orders.isEmpty
                ? [Array(repeating: nil, count: 9)]
                : referral.orders.map { order in
                    [
                        order.orderID, order.orderNumber, order.totalPrice, order.discountAmount, order.currency,
                        order.redeemedAt, String(order.counts), order.reasonCode, order.reason,
                    ]
                }
            for order in orders {
                lines.append((head + order).map { CSVWriter.escape($0 ?? "") }.joined(separator: ","))
            }
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// The whole explanation as one JSON object, keys in snake_case, sorted.
    func json() -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(self)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
