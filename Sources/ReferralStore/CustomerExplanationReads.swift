import Postgres
import ReferralModel

/// A customer that the text given to `referral-sync explain` names (`sql/queries/explain_lookup.sql`).
public struct CustomerMatch: Sendable, Equatable, Codable {
    public var customerID: String
    /// How it matched: `customer_id`, `email` or `phone`.
    public var matched: String
}

/// One customer's stored row and kept values (`sql/queries/explain_customer.sql`).
public struct ExplainedCustomerRow: Sendable, Equatable {
    public var customerID: String
    /// `customers.email`, `customers.phone`, `customers.shareable_link` and `customers.opted_in_at` as stored.
    public var email, phone, shareableLink, optedInAt: String?
    public var optedInByAsOf, referredByAsOf, participant: Bool
    /// Referrals created by the as-of.
    public var referralsByAsOf: Int
    /// The identity as sent (normalised), `nil` where not valid.
    public var sendEmail, sendPhone: String?
    /// The kept values, exactly as sent; `nil` for a customer who is not a participant.
    public var values: [OkendoAttribute: String]
    /// `no_usable_identity` or `duplicate_identity`, and its words, as `rejected_rows.csv` gives them.
    public var problem, problemDetail: String?
    /// Why the stored email or phone is not sent, in the words of `warnings.csv`; `nil` when it is sent, or is
    /// missing or empty.
    public var emailRefusal, phoneRefusal: String?
    /// The exact sum of the qualifying orders' totals, before rounding; `nil` when there is none.
    public var exactRevenue: String?
    /// The qualifying order with the latest `redeemed_at`.
    public var latestOrderID: String?
    /// What Attentive last accepted (`referral_sync_ledger`), if it accepted anything.
    public var ledger: LedgerEntry?
}

/// A participant's ledger row: the identity and values Attentive last answered 2xx for.
public struct LedgerEntry: Sendable, Equatable {
    public var email, phone: String?
    public var values: [OkendoAttribute: String]
    /// When Attentive accepted them, and the run that recorded it.
    public var acceptedAt: String
    public var runID: Int64?
    public var runKey, runCommand: String?
}

/// One value Attentive has not accepted yet (`referral_sync_pending`), as `explain` shows it.
public struct PendingEntry: Sendable, Equatable, Codable {
    public var attribute: String
    public var value: String?
    /// `failed`, `skipped` or `in_flight`.
    public var state: String
    public var attempts: Int
    public var httpStatus: Int?
    public var error: String?
    /// When it first became pending, and the last attempt.
    public var since, lastAttemptAt: String
    public var runID: Int64?
}

/// Another participant holding the same identity as sent.
public struct SharedIdentity: Sendable, Equatable, Codable {
    /// `email` or `phone`.
    public var kind: String
    public var identity: String
    public var customerID: String
}

/// One order of a referral with whether it counts and, when not, its rejected row.
public struct ExplainedOrderRow: Sendable, Equatable {
    public var orderID: String
    public var orderNumber: String?
    /// `total_price` and `discount_amount` exactly as stored (`numeric` as text).
    public var totalPrice, discountAmount: String
    public var currency: String
    public var redeemedAt: String
    public var counts: Bool
    /// The reason code and words of `rejected_rows.csv`; `nil` when it counts.
    public var reasonCode, reasonDetail: String?
}

/// One referral a customer made, with its rejection, its status and its orders (`sql/queries/explain_referrals.sql`).
public struct ExplainedReferralRow: Sendable, Equatable {
    public var referralID: String
    public var recipientEmail, recipientCustomerID, channel: String?
    public var createdAt: String
    /// The rejection row, if there is one: its type, reason and date, and whether it applies by the as-of.
    public var rejectionType, rejectionReason, rejectedAt: String?
    public var rejectionApplies: Bool
    /// `counts`, a `referrals` reason code of `rejected_rows.csv`, `referral_rejected`, `no_order` or
    /// `no_order_counts`.
    public var status: String
    public var qualifyingOrderID: String?
    /// The referral's own rejected row (`referrals`) and its rejection's (`rejected_after_as_of`), if any.
    public var reasonCode, reasonDetail, rejectionCode, rejectionDetail: String?
    public var orders: [ExplainedOrderRow]
}

/// The reads of `referral-sync explain`, every one from `sql/queries/explain_*.sql` and the job's own attribute
/// query, in the snapshot of a refresh for the explained parameters. Reads only.
public enum CustomerExplanationReads {
    /// The customers `text` names: an exact `customer_id`, else the participants whose identity as sent it is.
    public static func matches(_ text: String, phoneRegion: String?, on connection: PostgresConnection) throws
        -> [CustomerMatch]
    {
        try connection.query(SQL.explainLookup, [text, phoneRegion]).map { row in
            CustomerMatch(customerID: try row.value("customer_id") ?? "", matched: try row.value("matched") ?? "")
        }
    }

    /// The customer's stored row, kept values and ledger entry; `nil` when there is no such customer.
    public static func customer(
        _ customerID: String, _ parameters: RecomputeParameters, on connection: PostgresConnection
    ) throws -> ExplainedCustomerRow? {
        let rows = try connection.query(
            SQL.explainCustomer,
            [customerID, parameters.asOf.description, parameters.currency.code, parameters.phoneRegion])
        guard let row = rows.first else { return nil }
        func text(_ name: String) throws -> String? { try row.value(name) }
        func flag(_ name: String) throws -> Bool { row.bool(try row.index(of: name)) ?? false }
        var values: [OkendoAttribute: String] = [:]
        values[.shareableLink] = try text("kept_shareable_link")
        values[.successfulReferrals] = try text("successful_referrals")
        values[.latestSuccessfulReferralDate] = try text("latest_successful_referral_at")
        values[.totalSuccessfulReferralRevenue] = try text("total_successful_referral_revenue")
        var ledger: LedgerEntry?
        if try flag("has_ledger") {
            var ledgerValues: [OkendoAttribute: String] = [:]
            ledgerValues[.shareableLink] = try text("ledger_link")
            ledgerValues[.successfulReferrals] = try text("ledger_count")
            ledgerValues[.latestSuccessfulReferralDate] = try text("ledger_latest")
            ledgerValues[.totalSuccessfulReferralRevenue] = try text("ledger_revenue")
            ledger = LedgerEntry(
                email: try text("ledger_email"), phone: try text("ledger_phone"), values: ledgerValues,
                acceptedAt: try text("ledger_accepted_at") ?? "",
                runID: try text("ledger_run_id").flatMap { Int64($0) },
                runKey: try text("ledger_run_key"), runCommand: try text("ledger_run_command"))
        }
        return ExplainedCustomerRow(
            customerID: try text("customer_id") ?? customerID, email: try text("email"), phone: try text("phone"),
            shareableLink: try text("shareable_link"), optedInAt: try text("opted_in_at"),
            optedInByAsOf: try flag("opted_in_by_as_of"), referredByAsOf: try flag("referred_by_as_of"),
            participant: try flag("participant"),
            referralsByAsOf: Int(try text("referrals_by_as_of") ?? "") ?? 0,
            sendEmail: try text("send_email"), sendPhone: try text("send_phone"), values: values,
            problem: try text("problem"), problemDetail: try text("problem_detail"),
            emailRefusal: try text("email_refusal"), phoneRefusal: try text("phone_refusal"),
            exactRevenue: try text("exact_revenue"), latestOrderID: try text("latest_order_id"), ledger: ledger)
    }

    /// Every referral the customer made, in time order, each with its orders in time order.
    public static func referrals(
        _ customerID: String, _ parameters: RecomputeParameters, on connection: PostgresConnection
    ) throws -> [ExplainedReferralRow] {
        var referrals: [ExplainedReferralRow] = []
        let rows = try connection.query(
            SQL.explainReferrals, [customerID, parameters.asOf.description, parameters.currency.code])
        for row in rows {
            func text(_ name: String) throws -> String? { try row.value(name) }
            let id = try text("referral_id") ?? ""
            if referrals.last?.referralID != id {
                referrals.append(
                    ExplainedReferralRow(
                        referralID: id, recipientEmail: try text("recipient_email"),
                        recipientCustomerID: try text("recipient_customer_id"), channel: try text("channel"),
                        createdAt: try text("created_at") ?? "", rejectionType: try text("rejection_type"),
                        rejectionReason: try text("rejection_reason"), rejectedAt: try text("rejected_at"),
                        rejectionApplies: row.bool(try row.index(of: "rejection_applies")) ?? false,
                        status: try text("referral_status") ?? "", qualifyingOrderID: try text("qualifying_order_id"),
                        reasonCode: try text("referral_code"), reasonDetail: try text("referral_detail"),
                        rejectionCode: try text("rejection_code"), rejectionDetail: try text("rejection_detail"),
                        orders: []))
            }
            guard let orderID = try text("order_id") else { continue }
            referrals[referrals.count - 1].orders.append(
                ExplainedOrderRow(
                    orderID: orderID, orderNumber: try text("order_number"), totalPrice: try text("total_price") ?? "",
                    discountAmount: try text("discount_amount") ?? "", currency: try text("currency") ?? "",
                    redeemedAt: try text("redeemed_at") ?? "",
                    counts: row.bool(try row.index(of: "order_counts")) ?? false,
                    reasonCode: try text("order_code"), reasonDetail: try text("order_detail")))
        }
        return referrals
    }

    /// The customer's pending values and the other participants sharing its identity.
    public static func pendingAndShared(_ customerID: String, on connection: PostgresConnection) throws
        -> (pending: [PendingEntry], shared: [SharedIdentity])
    {
        var pending: [PendingEntry] = []
        var shared: [SharedIdentity] = []
        for row in try connection.query(SQL.explainPending, [customerID]) {
            func text(_ name: String) throws -> String? { try row.value(name) }
            let kind = try text("kind") ?? ""
            if kind == "pending" {
                pending.append(
                    PendingEntry(
                        attribute: try text("name") ?? "", value: try text("value"), state: try text("state") ?? "",
                        attempts: Int(try text("attempts") ?? "") ?? 0,
                        httpStatus: try text("http_status").flatMap { Int($0) }, error: try text("error"),
                        since: try text("first_seen_at") ?? "", lastAttemptAt: try text("last_attempt_at") ?? "",
                        runID: try text("run_id").flatMap { Int64($0) }))
            } else {
                shared.append(
                    SharedIdentity(
                        kind: kind == "shared_email" ? "email" : "phone", identity: try text("name") ?? "",
                        customerID: try text("value") ?? ""))
            }
        }
        return (pending, shared)
    }

    /// The participant as the next `run`'s attribute query will see it (`sql/queries/participant_attributes.sql`
    /// restricted to one customer): its values beside the ledger and the attributes that differ. `nil` for a
    /// customer who is not a participant.
    public static func nextRunState(_ customerID: String, on connection: PostgresConnection) throws
        -> ParticipantState?
    {
        let rows = try connection.query(
            "SELECT * FROM (\n\(AttributeQuery.sql)\n) AS participant WHERE participant.customer_id = $3::text",
            ["1", "0", customerID])
        guard let row = rows.first else { return nil }
        return try AttributeQuery.Columns(row).participant(from: row)
    }
}
