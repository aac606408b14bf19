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
