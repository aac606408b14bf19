/// The four profile attributes Okendo keeps on each customer in Attentive.
///
/// The raw value is the attribute's name in Attentive, exactly as Okendo writes it: segments and journeys that
/// merchants built name these strings, so they never change.
public enum OkendoAttribute: String, CaseIterable, Sendable, Codable {
    case shareableLink = "Okendo Referral Shareable Link"
    case successfulReferrals = "Okendo Number of Successful Referrals"
    case latestSuccessfulReferralDate = "Okendo Latest Successful Referral Date"
    case totalSuccessfulReferralRevenue = "Okendo Total Successful Referral Revenue"

    /// The bit for this attribute in the change mask the attribute query returns.
    public var maskBit: Int {
        switch self {
        case .shareableLink: 1
        case .successfulReferrals: 2
        case .latestSuccessfulReferralDate: 4
        case .totalSuccessfulReferralRevenue: 8
        }
    }

    // Hashing and equality by case, not by the raw name: the attributes are dictionary keys for every
    // participant, and hashing a 40-byte string per lookup was a visible share of a million-participant run.
    public static func == (lhs: OkendoAttribute, rhs: OkendoAttribute) -> Bool { lhs.maskBit == rhs.maskBit }
    public func hash(into hasher: inout Hasher) { hasher.combine(maskBit) }

    /// The attributes whose bits are set in `mask`, in a stable order.
    public static func attributes(inMask mask: Int) -> [OkendoAttribute] {
        allCases.filter { mask & $0.maskBit != 0 }
    }
}
