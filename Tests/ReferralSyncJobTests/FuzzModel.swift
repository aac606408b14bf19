import AttentiveSimulator
import Foundation

/// Seeded random referral history for the fuzz test, and a straightforward recomputation of the README's
/// attribute definitions written from the rows the test generated. It shares no code with the job: integer
/// micro-units for money, microseconds for time, plain loops for the rules.
struct FuzzHistory {
    struct Customer {
        var id: String
        var email: String?
        var phone: String?
        var link: String?
        var optedInAt: Int64?
    }
    struct Referral {
        var id: String
        var referrer: String
        var recipientEmail: String?
        var recipientCustomer: String?
        var createdAt: Int64
    }
    struct Order {
        var id: String
        var referral: String
        /// Millionths of a currency unit; `nil` is NaN.
        var micros: Int128?
        var totalText: String
        var currency: String
        var redeemedAt: Int64
    }
    struct Rejection {
        var referral: String
        var rejectedAt: Int64
    }

    /// 2024-06-30T00:00:00Z, midnight: the `--as-of` of every fuzz run, in microseconds since 1970.
    static let asOf: Int64 = 1_719_705_600_000_000
    static let day: Int64 = 86_400_000_000

    var customers: [Customer] = []
    var referrals: [Referral] = []
    var orders: [Order] = []
    var rejections: [Rejection] = []

    /// A history of about `customerCount` customers, three referrals each and one and a half orders per
    /// referral, with every kind of bad row mixed in.
    init(seed: UInt64, customerCount: Int = 400) {
        var random = FuzzRandom(seed: seed)
        for index in 0..<customerCount {
            let id = String(format: "c%05d", index)
            var email: String?
            switch random.unit() {
            case ..<0.05 where !customers.isEmpty:
                // Someone else's email, differently typed: a collision when both are participants.
                email = customers[random.below(customers.count)].email.map { random.retype($0) }
            case ..<0.12: email = nil
            case ..<0.16: email = random.pick(["nope", "a@b", "", "two words@example.com"])
            case ..<0.30: email = random.retype("user\(index)@example.com")
            default: email = "user\(index)@example.com"
            }
            var phone: String?
            let digits = String(format: "%07d", index)
            switch random.unit() {
            case ..<0.03 where !customers.isEmpty:
                phone = customers[random.below(customers.count)].phone
            case ..<0.40: phone = nil
            case ..<0.55: phone = "+1415\(digits)"
            case ..<0.65: phone = "+1 (415) \(digits.prefix(3))-\(digits.suffix(4))"
            case ..<0.75: phone = "415.555.\(digits.suffix(4))"  // national: sent with the US region only
            case ..<0.80: phone = "0044 20 \(digits)"
            default: phone = random.pick(["12", "+0123456", "call me"])
            }
            let optedInAt: Int64?
            switch random.unit() {
            case ..<0.30: optedInAt = nil
            case ..<0.35: optedInAt = Self.asOf
            case ..<0.40: optedInAt = Self.asOf + 1 + Int64(random.below(10)) * Self.day
            default:
                optedInAt = Self.asOf - Int64(random.below(400)) * Self.day - Int64(random.below(86_400)) * 1_000_000
            }
            customers.append(
                Customer(
                    id: id, email: email, phone: phone, link: random.unit() < 0.7 ? "https://test.oken.do/\(id)" : nil,
                    optedInAt: optedInAt))
        }
        for index in 0..<(customerCount * 3) {
            let referrer = customers[random.below(customers.count)]
            let id = String(format: "r%05d", index)
            var recipientEmail: String? = random.unit() < 0.7 ? "friend\(random.below(1000))@example.com" : nil
            var recipientCustomer: String? = random.unit() < 0.5 ? customers[random.below(customers.count)].id : nil
            switch random.unit() {
            case ..<0.03: recipientCustomer = referrer.id
            case ..<0.06: recipientEmail = referrer.email.map { random.retype($0) } ?? recipientEmail
            default: break
            }
            let createdAt: Int64
            switch random.unit() {
            case ..<0.03: createdAt = Self.asOf
            case ..<0.07: createdAt = Self.asOf + 1 + Int64(random.below(20)) * Self.day
            default:
                createdAt = Self.asOf - Int64(random.below(200 * 86_400)) * 1_000_000 - Int64(random.below(1_000_000))
            }
            referrals.append(
                Referral(
                    id: id, referrer: referrer.id, recipientEmail: recipientEmail, recipientCustomer: recipientCustomer,
                    createdAt: createdAt))
        }
        var orderIndex = 0
        for referral in referrals {
            let count = random.pick([0, 0, 1, 1, 1, 2, 2, 3, 4])
            var previous: Int64?
            for _ in 0..<count {
                let id = String(format: "o%06d", orderIndex)
                orderIndex += 1
                var redeemedAt: Int64
                switch random.unit() {
                case ..<0.04: redeemedAt = Self.asOf
                case ..<0.07: redeemedAt = Self.asOf + 1
                case ..<0.12: redeemedAt = referral.createdAt - 1 - Int64(random.below(3 * 86_400)) * 1_000_000
                case ..<0.20 where previous != nil: redeemedAt = previous ?? 0  // a tie: order_id decides
                default:
                    redeemedAt =
                        referral.createdAt + Int64(random.below(90 * 86_400)) * 1_000_000
                        + Int64(random.below(1_000_000))
                }
                previous = redeemedAt
                let (micros, text) = random.amount()
                let currency = random.unit() < 0.94 ? "USD" : random.pick(["CAD", "usd", "EUR"])
                orders.append(
                    Order(
                        id: id, referral: referral.id, micros: micros, totalText: text, currency: currency,
                        redeemedAt: redeemedAt))
            }
            if random.unit() < 0.15 {
                let rejectedAt: Int64
                switch random.unit() {
                case ..<0.1: rejectedAt = Self.asOf
                case ..<0.3: rejectedAt = Self.asOf + 1 + Int64(random.below(30)) * Self.day
                default: rejectedAt = Self.asOf - Int64(random.below(100)) * Self.day
                }
                rejections.append(Rejection(referral: referral.id, rejectedAt: rejectedAt))
            }
        }
    }
}

/// SplitMix64 (the simulator's), so a seed gives the same history everywhere.
struct FuzzRandom {
    private var generator: SplitMix64
    init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    mutating func next() -> UInt64 { generator.next() }

    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(1, bound))) }
    mutating func pick<T>(_ choices: [T]) -> T { choices[below(choices.count)] }

    /// The same email typed differently: case changed and spaces around it.
    mutating func retype(_ email: String) -> String {
        let cased = unit() < 0.5 ? email.uppercased() : email.prefix(1).uppercased() + email.dropFirst()
        return String(repeating: " ", count: below(3)) + cased + String(repeating: " ", count: below(3))
    }

    /// A total: usually a few hundred with 0 to 6 decimals, sometimes zero, enormous (above 10^12), negative
    /// or NaN. Returns millionths (nil for NaN) and the text inserted.
    mutating func amount() -> (Int128?, String) {
        let kind = unit()
        if kind < 0.01 { return (nil, "NaN") }
        let scale = below(7)
        var value: Int128
        switch kind {
        case ..<0.05: value = 0
        case ..<0.08:
            value = Int128(below(9_000_000)) * Int128(1_000_000) + Int128(below(1_000_000))  // ~10^12..10^13
            value *= Int128(10).power(scale)
        default: value = Int128(below(50_000 * Int(Int128(10).power(scale))))
        }
        if kind >= 0.08, scale == 3, unit() < 0.5 { value = value / 10 * 10 + 5 }  // a half cent
        let negative = unit() < 0.03 && value > 0
        let divisor = Int128(10).power(scale)
        var text = String(value / divisor)
        if scale > 0 {
            let fraction = String(value % divisor)
            text += "." + String(repeating: "0", count: scale - fraction.count) + fraction
        }
        let micros = value * Int128(10).power(6 - scale)
        return negative ? (-micros, "-" + text) : (micros, text)
    }
}

extension Int128 {
    func power(_ exponent: Int) -> Int128 {
        var result: Int128 = 1
        for _ in 0..<exponent { result *= self }
        return result
    }
}
