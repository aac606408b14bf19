import Attentive
import ReferralModel
import ReferralStore

/// Sections 3 and 4 of an explanation in words: how each attribute the recompute kept follows from the orders
/// that count, and what the next run does with them. The values, verdicts and exact sums come from SQL.
extension ExplainCustomer {
    static func attributes(
        _ row: ExplainedCustomerRow, referrals: [CustomerExplanation.Referral], currency: Currency
    ) -> [CustomerExplanation.Attribute] {
        guard row.participant else {
            return OkendoAttribute.allCases.map {
                .init(name: $0.rawValue, value: nil, how: "not computed: not a participant")
            }
        }
        let counting = referrals.flatMap { referral in referral.orders.filter(\.counts) }
        let ids = counting.map(\.orderID).joined(separator: ", ")
        func value(_ attribute: OkendoAttribute) -> String? { row.values[attribute] }
        let count = value(.successfulReferrals) ?? "0"
        let none = counting.isEmpty
        let link =
            value(.shareableLink) == nil
            ? "absent: customers.shareable_link is empty"
            : value(.shareableLink) == row.shareableLink
                ? "customers.shareable_link as stored"
                : "customers.shareable_link without the bidirectional or control characters it has, removed on the way "
                    + "out (warnings.csv: link_cleaned)"
        let number =
            none
            ? "no successful referral"
            : counting.count == 1
                ? "1 successful referral, with its qualifying order \(ids)"
                : "\(count) successful referrals, one qualifying order each: \(ids)"
        let latest =
            none
            ? "absent while there is no successful referral"
            : "redeemed_at of \(row.latestOrderID ?? "?"), the latest qualifying order, in UTC to the millisecond"
        let terms = counting.map { "\($0.totalPrice) (\($0.orderID))" }.joined(separator: " + ")
        let revenue =
            none
            ? "no successful referral: 0 in \(currency.code)"
            : "\(terms) = \(row.exactRevenue ?? "?") exactly, rounded once, half to even, to \(currency.code)'s "
                + "\(currency.minorUnits) minor units"
        return [
            .init(name: OkendoAttribute.shareableLink.rawValue, value: value(.shareableLink), how: link),
            .init(name: OkendoAttribute.successfulReferrals.rawValue, value: value(.successfulReferrals), how: number),
            .init(
                name: OkendoAttribute.latestSuccessfulReferralDate.rawValue,
                value: value(.latestSuccessfulReferralDate), how: latest),
            .init(
                name: OkendoAttribute.totalSuccessfulReferralRevenue.rawValue,
                value: value(.totalSuccessfulReferralRevenue), how: revenue),
        ]
    }

    /// What the next run does for the participant, by the loop's own rule (``ParticipantState/decision(heldBy:)``):
    /// nothing when no value differs from the ledger; skipped when the identity cannot be sent; held behind an
    /// unfinished bulk job; otherwise the request the job's encoder writes.
    static func nextRun(_ participant: ParticipantState?, held: InFlightRecord?) -> CustomerExplanation.NextRun {
        guard let participant else {
            return .init(action: "nothing", why: "not a participant: nothing is sent", changes: [], requestBody: nil)
        }
        let changes = participant.changedAttributes.map {
            CustomerExplanation.Value(name: $0.rawValue, value: participant.changedProperties[$0.rawValue])
        }
        let identity =
            participant.identityChanged
            ? "a new identity is a new Attentive user: every attribute with a value is sent. " : ""
        switch participant.decision(heldBy: held) {
        case .unchanged:
            return .init(
                action: "nothing", why: "every value equals what Attentive last accepted (the ledger)", changes: [],
                requestBody: nil)
        case .skip(let reason):
            return .init(
                action: "skipped", why: identity + "the changed values stay pending as skipped: \(reason)",
                changes: changes, requestBody: nil)
        case .hold(let held):
            return .init(
                action: "held",
                why: "\(held.jobName) (since \(held.since)) holds this participant; the run collects it first, and "
                    + "values it does not settle are sent by a run after it resolves",
                changes: changes, requestBody: nil)
        case .send:
            return .init(
                action: "send",
                why: identity + "these values differ from the ledger: the run sends them (v1: this request; bulk: "
                    + "one record of a job)",
                changes: changes, requestBody: CustomAttributesJSON.encode(participant.attributeUpdate))
        }
    }
}
