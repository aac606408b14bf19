/// The seven referral event types Okendo's own Attentive integration sends, named exactly as Okendo names them.
///
/// `sql/definitions/85_events.sql` derives the events and writes these names; this is their list on the Swift side,
/// for what checks a name before anything runs (`--event-type-names`). A test keeps the two lists equal. Event ids
/// and ledger keys are made from these names, never from a name the merchant sends instead.
public enum OkendoEventType: String, CaseIterable, Sendable {
    case optedIn = "Opted In to Okendo Referrals"
    case sentReferral = "Sent Okendo Referral"
    case invitation = "Okendo Referral Invitation"
    case shareableLinkUsed = "Okendo Shareable Link Used"
    case receivedCoupon = "Received Okendo Referral Coupon"
    case redeemedCoupon = "Redeemed Okendo Referral Coupon"
    case rejected = "Okendo Referral Rejected"
}
