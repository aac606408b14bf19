import Foundation
import Postgres

/// Builds referral-history rows for a test, through parameterised inserts, so each test states its data.
public struct ReferralHistory {
    public struct Customer {
        public var id: String
        public var email: String?
        public var phone: String?
        public var link: String?
        public var optedInAt: String?
        public var firstName: String?
        public init(
            _ id: String, email: String? = nil, phone: String? = nil, link: String? = nil,
            optedInAt: String? = "2024-01-01T00:00:00Z", firstName: String? = nil
        ) {
            self.id = id
            self.email = email
            self.phone = phone
            self.link = link
            self.optedInAt = optedInAt
            self.firstName = firstName
        }
    }

    public var customers: [Customer] = []
    /// (referral_id, referrer_id, recipient_email, recipient_customer_id, created_at)
    public var referrals: [(String, String, String?, String?, String)] = []
    /// (order_id, referral_id, total_price, currency, redeemed_at)
    public var orders: [(String, String, String, String, String)] = []
    /// (referral_id, rejected_at)
    public var rejections: [(String, String)] = []

    public init() {}

    public mutating func customer(_ customer: Customer) { customers.append(customer) }

    public mutating func referral(
        _ id: String, by referrer: String, recipientEmail: String? = nil, recipientCustomer: String? = nil,
        at createdAt: String = "2024-02-01T00:00:00Z"
    ) {
        referrals.append((id, referrer, recipientEmail, recipientCustomer, createdAt))
    }

    public mutating func order(
        _ id: String, for referral: String, total: String, currency: String = "USD",
        at redeemedAt: String = "2024-03-01T00:00:00Z"
    ) {
        orders.append((id, referral, total, currency, redeemedAt))
    }

    public mutating func rejection(of referral: String, at rejectedAt: String = "2024-03-02T00:00:00Z") {
        rejections.append((referral, rejectedAt))
    }

    /// Inserts everything into `database` (whose migrations must be applied).
    public func insert(into database: TestDatabase) throws {
        let connection = try database.connect()
        defer { connection.close() }
        try connection.transaction {
            for c in customers {
                try connection.execute(
                    """
                    INSERT INTO customers (customer_id, email, phone, first_name, shareable_link, opted_in_at)
                    VALUES ($1, $2, $3, $4, $5, $6::timestamptz)
                    """, [c.id, c.email, c.phone, c.firstName, c.link, c.optedInAt])
            }
            for r in referrals {
                try connection.execute(
                    """
                    INSERT INTO referrals (referral_id, referrer_id, recipient_email, recipient_customer_id, channel, created_at)
                    VALUES ($1, $2, $3, $4, 'email', $5::timestamptz)
                    """, [r.0, r.1, r.2, r.3, r.4])
            }
            for o in orders {
                try connection.execute(
                    """
                    INSERT INTO referral_orders (order_id, order_number, referral_id, total_price, currency, redeemed_at)
                    VALUES ($1, $1, $2, $3::numeric, $4, $5::timestamptz)
                    """, [o.0, o.1, o.2, o.3, o.4])
            }
            for j in rejections {
                try connection.execute(
                    """
                    INSERT INTO referral_rejections (referral_id, rejection_type, reason, rejected_at)
                    VALUES ($1, 'manual', 'test', $2::timestamptz)
                    """, [j.0, j.1])
            }
        }
    }
}
