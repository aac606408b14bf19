import Attentive
import ReferralModel
public import ReferralStore

/// One customer's numbers explained (`referral-sync explain`, README "Support: explain a customer"): who the
/// customer is, every referral and order with whether it counts and why not, the four attributes and how they
/// follow, and what Attentive was told. Every verdict and reason comes from the job's SQL; this type only gathers
/// them and puts them in words. Encoded as the `--format json` document (keys in snake_case).
public struct CustomerExplanation: Sendable, Codable, Equatable {
    /// What the explanation is for: the as-of (UTC, milliseconds), the shop currency, the phone region.
    public var asOf: String
    public var currency: String
    public var minorUnits: Int
    public var defaultPhoneRegion: String?
    /// How the kept recompute was brought up to date before reading, as the run summary says it.
    public var recompute: String
    /// The text asked for and how it matched (`customer_id`, `email` or `phone`).
    public var asked: String
    public var matchedBy: String
    public var customer: Customer
    public var referrals: [Referral]
    public var attributes: [Attribute]
    public var attentive: Attentive

    /// Section 1: the customer.
    public struct Customer: Sendable, Codable, Equatable {
        public var customerID: String
        /// As stored in `customers`.
        public var email, phone, shareableLink, optedInAt: String?
        /// As Attentive gets it (normalised by the identity rules); absent where not valid.
        public var sentEmail, sentPhone: String?
        public var participant: Bool
        /// Why it is a participant or not, in words.
        public var participantBecause: String
        /// `no_usable_identity` or `duplicate_identity`, with the words of `rejected_rows.csv`.
        public var identityProblem, identityProblemDetail: String?
        /// Why the stored email or phone is not sent (README "Identities"), in the words of `warnings.csv`; absent
        /// when it is sent, or is missing or empty.
        public var emailNotSent, phoneNotSent: String?
        /// Every other participant holding the same email or phone as sent.
        public var sharesIdentityWith: [SharedIdentity]
    }

    /// Section 2: one referral, whether it counts and, when not, why.
    public struct Referral: Sendable, Codable, Equatable {
        public var referralID: String
        public var recipientEmail, recipientCustomerID, channel: String?
        public var createdAt: String
        public var counts: Bool
        /// `counts`, `no_order`, `no_order_counts`, `referral_rejected` or a `referrals` reason of rejected_rows.csv.
        public var status: String
        /// The reason code of `rejected_rows.csv`, when one applies.
        public var reasonCode: String?
        /// Why it counts or not, in words.
        public var reason: String
        public var rejection: Rejection?
        public var orders: [Order]
    }

    /// A referral's rejection row.
    public struct Rejection: Sendable, Codable, Equatable {
        public var type, reason: String?
        public var rejectedAt: String?
        /// Whether it is dated by the as-of (it applies) or after (`rejected_after_as_of`: counts until then).
        public var applies: Bool
        public var reasonCode, detail: String?
    }

    /// One order of a referral.
    public struct Order: Sendable, Codable, Equatable {
        public var orderID: String
        public var orderNumber: String?
        /// Exactly as stored (`numeric`).
        public var totalPrice, discountAmount: String
        public var currency: String
        public var redeemedAt: String
        public var counts: Bool
        public var reasonCode: String?
        public var reason: String
    }

    /// Section 3: one of the four attributes as computed now, and how it follows from the rows.
    public struct Attribute: Sendable, Codable, Equatable {
        /// The attribute's name in Attentive.
        public var name: String
        /// Exactly as sent; absent when the attribute has no value.
        public var value: String?
        public var how: String
    }

    /// Section 4: what Attentive was told and what the next run sends.
    public struct Attentive: Sendable, Codable, Equatable {
        public var ledger: Ledger?
        public var pending: [Pending]
        public var nextRun: NextRun
    }

    /// The ledger row: what Attentive last answered 2xx for.
    public struct Ledger: Sendable, Codable, Equatable {
        public var email, phone: String?
        public var values: [Value]
        public var acceptedAt: String
        public var runID: Int64?
        public var runKey, runCommand: String?
    }

    /// An attribute and its value (absent: none).
    public struct Value: Sendable, Codable, Equatable {
        public var name: String
        public var value: String?
    }

    /// A value Attentive has not accepted yet: the store's row as it is.
    public typealias Pending = PendingEntry

    /// What the next `run` would do for this customer.
    public struct NextRun: Sendable, Codable, Equatable {
        /// `send`, `nothing`, `skipped` (not sendable) or `held` (behind an unfinished bulk job).
        public var action: String
        public var why: String
        /// The changed attributes and the values the run would send (empty clears).
        public var changes: [Value]
        /// The `POST /v1/attributes/custom` body the run would send, by the job's own encoder.
        public var requestBody: String?
    }
}
