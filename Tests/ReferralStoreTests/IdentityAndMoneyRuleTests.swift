import AttentiveSimulator
import Foundation
import Postgres
import TestSupport
import Testing

@testable import ReferralStore

/// The identity, date and money rules of `sql/definitions/10_identities.sql` and `30_money.sql`, called directly.
@Suite struct IdentityAndFormattingRuleTests {
    func evaluate(_ sql: String, _ parameters: [String?]) throws -> String? {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        try Migrations.apply(on: connection)
        return try connection.query(sql, parameters).first?[0]
    }

    @Test func emailsAreTrimmedAndLowerCasedAndValidated() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        try Migrations.apply(on: connection)
        func email(_ raw: String) throws -> String? {
            try connection.query("SELECT referral_sync_email($1)", [raw]).first?[0]
        }
        #expect(try email("  Ocean.Grove@Example.COM ") == "ocean.grove@example.com")
        #expect(try email("zoë.müller@example.de") == "zoë.müller@example.de")
        #expect(try email("not-an-email") == nil)
        #expect(try email("two words@example.com") == nil)
        #expect(try email("a@b") == nil)
        // RFC 5321's lengths: 64 before the @, 254 in all, 63 a label.
        #expect(try email(String(repeating: "a", count: 64) + "@b.co") != nil)
        #expect(try email(String(repeating: "a", count: 65) + "@b.co") == nil)
        #expect(try email(String(repeating: "a", count: 300) + "@example.com") == nil)
        #expect(try email("a@" + String(repeating: "b", count: 63) + ".com") != nil)
        #expect(try email("a@" + String(repeating: "b", count: 64) + ".com") == nil)
        #expect(try email("a@x." + String(repeating: "c", count: 64)) == nil)
        let longest = "a@" + String(repeating: "b.", count: 125) + "cc"
        #expect(longest.count == 254)
        #expect(try email(longest) != nil)
        #expect(try email("ab@" + String(repeating: "b.", count: 125) + "cc") == nil)
    }

    /// The email rule's shortcut for clean ASCII addresses (issue 27) gives the full rule's answer: 3,000 generated
    /// strings, most of them near the shortcut's edges (64 bytes, whitespace, a second @, a dot last, non-ASCII,
    /// upper case), each compared with the full rule written out here as it stood before the shortcut.
    @Test func theEmailShortcutAgreesWithTheFullRule() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        try Migrations.apply(on: connection)
        var generator = SplitMix64(seed: 27)
        let pieces = [
            "a", "B", "z", "0", "@", ".", "-", "_", "+", " ", "\t", "\u{00A0}", "é", "e\u{0301}", "\u{FEFF}", ",", "\"",
        ]
        var samples: [String] = []
        for _ in 0..<3000 {
            var local = ""
            for _
                in 0..<(Bool.random(using: &generator)
                ? Int.random(in: 1...20, using: &generator) : Int.random(in: 58...66, using: &generator))
            {
                local += Int.random(in: 0..<30, using: &generator) > 0 ? "a" : pieces.randomElement(using: &generator)!
            }
            var domain = ""
            for _ in 0..<Int.random(in: 1...(Bool.random(using: &generator) ? 2 : 12), using: &generator) {
                domain += Int.random(in: 0..<30, using: &generator) > 0 ? "b" : pieces.randomElement(using: &generator)!
            }
            let tld = ["com", "co", "", ".", "c c", "CO"].randomElement(using: &generator)!
            samples.append(local + "@" + domain + "." + tld)
        }
        let disagreements = try connection.query(
            """
            SELECT s.raw FROM unnest($1::text[]) AS s(raw)
            WHERE referral_sync_email(s.raw) IS DISTINCT FROM
                  lower(substring(referral_sync_nfc(referral_sync_trim(s.raw))
                                  FROM '^(?![^@]{65})(?!.{255})[^\\s@]+@(?![^@]*[^@.]{64})[^\\s@]+\\.[^\\s@.]+$'))
            """, [PostgresArray.literal(samples)])
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
        let accepted = try connection.query(
            "SELECT count(*) FROM unnest($1::text[]) AS s(raw) WHERE referral_sync_email(s.raw) IS NOT NULL",
            [PostgresArray.literal(samples)])
        // Both answers occur often: the comparison is not between two NULLs.
        #expect((Int(accepted.first?[0] ?? "0") ?? 0) > 300)
    }

    @Test func phonesAreNormalisedToE164OnlyWhenUnambiguous() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        try Migrations.apply(on: connection)
        func phone(_ raw: String) throws -> String? {
            try connection.query("SELECT referral_sync_phone($1)", [raw]).first?[0]
        }
        #expect(try phone("+1 (415) 555-0101") == "+14155550101")
        #expect(try phone("0044 7700 900123") == "+447700900123")
        #expect(try phone("(415) 555-0101") == nil)
        #expect(try phone("+0123456789") == nil)
    }

    @Test func moneyIsRoundedHalfToEvenWithTrailingZeros() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        try Migrations.apply(on: connection)
        func money(_ amount: String, _ units: Int) throws -> String? {
            try connection.query("SELECT referral_sync_money($1::numeric, $2::integer)", [amount, String(units)])
                .first?[0]
        }
        #expect(try money("42", 2) == "42.00")
        #expect(try money("4200", 0) == "4200")
        #expect(try money("2.5", 0) == "2")
        #expect(try money("3.5", 0) == "4")
        #expect(try money("0.125", 2) == "0.12")
        #expect(try money("1.0005", 3) == "1.000")
        #expect(try money("1234567890123.455", 2) == "1234567890123.46")
    }

    @Test func moneyRuleMatchesBankersRoundingOnEveryHalfAndNeighbour() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        try Migrations.apply(on: connection)
        // Amounts k / 1000 for k in -3000...3000 (every half at 0, 1 and 2 minor units, and their neighbours),
        // against Foundation's half-to-even rounding, as text with the minor units.
        let rows = try connection.query(
            """
            SELECT k, m, referral_sync_money(k / 1000.0, m)
            FROM generate_series(-3000, 3000) AS k, generate_series(0, 3) AS m
            ORDER BY k, m
            """)
        #expect(rows.count == 6001 * 4)
        var mismatches: [String] = []
        for row in rows {
            guard let k = row.int(0), let units = row.int(1) else { continue }
            var amount = Decimal(k) / 1000
            var rounded = Decimal()
            NSDecimalRound(&rounded, &amount, units, .bankers)
            let formatter = NumberFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.minimumFractionDigits = units
            formatter.maximumFractionDigits = units
            formatter.minimumIntegerDigits = 1
            formatter.usesGroupingSeparator = false
            var expected = formatter.string(from: rounded as NSDecimalNumber) ?? "?"
            if expected.hasPrefix("-"), rounded == 0 { expected.removeFirst() }
            if row[2] != expected { mismatches.append("\(k)/1000 at \(units): \(row[2] ?? "NULL") != \(expected)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
        #expect(try connection.query("SELECT referral_sync_money(NULL, 2)").first?[0] == nil)
    }
}
