import Foundation

/// What the README's definitions say the job must report for a ``FuzzHistory`` as of ``FuzzHistory/asOf``, with
/// shop currency USD and default phone region US, computed the obvious way.
struct FuzzExpectations {
    /// attributes.csv rows by customer id: successful_referrals, latest_successful_referral_at,
    /// total_successful_referral_revenue, shareable_link.
    var attributes: [String: [String]] = [:]
    /// Participants that must not be sent (no usable identity, or an identity another participant shares).
    var unsendable: Set<String> = []
    /// Per table, the rows that count.
    var countedReferrals = 0
    var countedOrders = 0

    init(_ history: FuzzHistory) {
        let asOf = FuzzHistory.asOf
        let customers = Dictionary(uniqueKeysWithValues: history.customers.map { ($0.id, $0) })
        var referredBy: [String: Int] = [:]
        for referral in history.referrals where referral.createdAt <= asOf {
            referredBy[referral.referrer, default: 0] += 1
        }
        let participants = history.customers.filter { customer in
            (customer.optedInAt.map { $0 <= asOf } ?? false) || referredBy[customer.id] != nil
        }

        // Referrals that can succeed.
        var counted: [String: FuzzHistory.Referral] = [:]
        for referral in history.referrals where referral.createdAt <= asOf {
            if referral.recipientCustomer == referral.referrer { continue }
            let recipient = referral.recipientEmail.map(Self.trimmedLowercase) ?? ""
            let own = customers[referral.referrer]?.email.map(Self.trimmedLowercase) ?? ""
            if !recipient.isEmpty && recipient == own { continue }
            counted[referral.id] = referral
        }
        countedReferrals = counted.count
        let rejected = Set(history.rejections.filter { $0.rejectedAt <= asOf }.map(\.referral))

        // Each counted referral's first valid order.
        var qualifying: [String: FuzzHistory.Order] = [:]
        for order in history.orders {
            guard let referral = counted[order.referral], let micros = order.micros, micros >= 0,
                order.redeemedAt <= asOf, order.currency == "USD", order.redeemedAt >= referral.createdAt
            else { continue }
            if let current = qualifying[order.referral],
                (current.redeemedAt, current.id) < (order.redeemedAt, order.id)
            {
                continue
            }
            qualifying[order.referral] = order
        }

        var count: [String: Int] = [:]
        var latest: [String: Int64] = [:]
        var revenue: [String: Int128] = [:]
        for (referralID, order) in qualifying where !rejected.contains(referralID) {
            guard let referrer = counted[referralID]?.referrer else { continue }
            count[referrer, default: 0] += 1
            latest[referrer] = max(latest[referrer] ?? Int64.min, order.redeemedAt)
            revenue[referrer, default: 0] += order.micros ?? 0
            countedOrders += 1
        }
        for customer in participants {
            attributes[customer.id] = [
                String(count[customer.id] ?? 0), latest[customer.id].map(Self.utcMilliseconds) ?? "",
                Self.cents(revenue[customer.id] ?? 0), customer.link ?? "",
            ]
        }

        // Identities: who cannot be sent.
        var byEmail: [String: Int] = [:]
        var byPhone: [String: Int] = [:]
        let identities = participants.map { (id: $0.id, email: Self.email($0.email), phone: Self.phone($0.phone)) }
        for identity in identities {
            if let email = identity.email { byEmail[email, default: 0] += 1 }
            if let phone = identity.phone { byPhone[phone, default: 0] += 1 }
        }
        for identity in identities {
            let none = identity.email == nil && identity.phone == nil
            let shared =
                identity.email.map { byEmail[$0, default: 0] > 1 } == true
                || identity.phone.map { byPhone[$0, default: 0] > 1 } == true
            if none || shared { unsendable.insert(identity.id) }
        }
    }

    static func trimmedLowercase(_ text: String) -> String {
        String(text.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()).lowercased()
    }

    /// local@domain.tld, no whitespace, after trimming and lower-casing (the histories use ASCII and spaces only).
    static func email(_ raw: String?) -> String? {
        guard let raw else { return nil }
        let email = trimmedLowercase(raw)
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !email.contains(" "),
            let dot = parts[1].lastIndex(of: "."), dot != parts[1].startIndex,
            parts[1].index(after: dot) != parts[1].endIndex
        else { return nil }
        return email
    }

    /// E.164 after removing punctuation (a leading 00 is +), or a US national number NXX NXX XXXX.
    static func phone(_ raw: String?) -> String? {
        guard let raw else { return nil }
        var cleaned = raw.filter { !" .()-/".contains($0) }
        if cleaned.hasPrefix("00") { cleaned = "+" + cleaned.dropFirst(2) }
        let digits = cleaned.hasPrefix("+") ? cleaned.dropFirst() : Substring(cleaned)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        if cleaned.hasPrefix("+") {
            return (7...15).contains(digits.count) && digits.first != "0" ? cleaned : nil
        }
        let national = digits.count == 11 && digits.first == "1" ? digits.dropFirst() : digits
        let array = Array(national)
        guard array.count == 10, array[0] >= "2", array[3] >= "2" else { return nil }
        return "+1" + String(national)
    }

    /// Millionths rounded once, half to even, to cents.
    static func cents(_ micros: Int128) -> String {
        var cents = micros / 10_000
        let remainder = micros % 10_000
        if remainder > 5_000 || (remainder == 5_000 && cents % 2 == 1) { cents += 1 }
        let fraction = String(cents % 100)
        return String(cents / 100) + "." + String(repeating: "0", count: 2 - fraction.count) + fraction
    }

    /// Microseconds since 1970 as YYYY-MM-DDTHH:MM:SS.sssZ, milliseconds truncated (dates after 1970 only).
    static func utcMilliseconds(_ micros: Int64) -> String {
        let seconds = micros / 1_000_000
        let (days, secondOfDay) = (seconds / 86_400, seconds % 86_400)
        let (year, month, day) = civil(days)
        let fields = [year, month, day, secondOfDay / 3600, secondOfDay % 3600 / 60, secondOfDay % 60].map { Int($0) }
        return String(
            format: "%04ld-%02ld-%02ldT%02ld:%02ld:%02ld.%03ldZ", fields[0], fields[1], fields[2], fields[3], fields[4],
            fields[5], Int(micros % 1_000_000 / 1000))
    }

    /// Microseconds since 1970 as an ISO 8601 time with microseconds, for inserting.
    static func iso(_ micros: Int64) -> String {
        let seconds = micros / 1_000_000
        let (days, secondOfDay) = (seconds / 86_400, seconds % 86_400)
        let (year, month, day) = civil(days)
        let fields = [year, month, day, secondOfDay / 3600, secondOfDay % 3600 / 60, secondOfDay % 60].map { Int($0) }
        return String(
            format: "%04ld-%02ld-%02ldT%02ld:%02ld:%02ld.%06ldZ", fields[0], fields[1], fields[2], fields[3], fields[4],
            fields[5], Int(micros % 1_000_000))
    }

    /// Howard Hinnant's days-to-civil for days since 1970-01-01.
    static func civil(_ daysSinceEpoch: Int64) -> (Int64, Int64, Int64) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
