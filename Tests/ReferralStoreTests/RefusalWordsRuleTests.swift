import Foundation
import Postgres
import TestSupport
import Testing

@testable import ReferralStore

/// The words of `rejected_rows.csv` and `warnings.csv` for what the rules refuse or change on the way out
/// (`sql/definitions/10_identities.sql`, `15_outbound_text.sql`), called directly: each limit named with the
/// length found, and nothing said where the rule accepts the value.
@Suite struct RefusalWordsRuleTests {
    @Test func emailRefusalsNameEachRFC5321LimitAnAddressBreaks() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        try Migrations.apply(on: connection)
        func refusal(_ raw: String?) throws -> String? {
            try connection.query("SELECT referral_sync_email_refusal($1)", [raw]).first?[0]
        }
        #expect(try refusal(nil) == "missing")
        #expect(try refusal(" \t") == "empty")
        #expect(try refusal(" Ocean@Example.com ") == nil)
        // At each limit the address is usable; one over, the words say which limit and by how much.
        #expect(try refusal(String(repeating: "a", count: 64) + "@b.co") == nil)
        #expect(
            try refusal(String(repeating: "a", count: 65) + "@b.co")
                == "\"\(String(repeating: "a", count: 65))@b.co\" is not a valid address (the part before the @ "
                + "is 65 characters, RFC 5321 allows 64)")
        #expect(try refusal("a@" + String(repeating: "b", count: 63) + ".com") == nil)
        #expect(
            try refusal("a@" + String(repeating: "b", count: 64) + ".com")?
                .hasSuffix("(a label of the domain is 64 characters, RFC 5321 allows 63)") == true)
        #expect(try refusal("a@" + String(repeating: "b.", count: 125) + "cc") == nil)
        #expect(
            try refusal("ab@" + String(repeating: "b.", count: 125) + "cc")?
                .hasSuffix("(the address is 255 characters, RFC 5321 allows 254)") == true)
        // Several limits at once: each is named.
        #expect(
            try refusal(String(repeating: "x", count: 300) + "@example.com")?
                .hasSuffix(
                    "(the part before the @ is 300 characters, RFC 5321 allows 64, the address is 312 characters, "
                        + "RFC 5321 allows 254)") == true)
        #expect(
            try refusal("two words@example.com")
                == "\"two words@example.com\" is not a valid address (it contains whitespace)")
        #expect(try refusal("a@b") == "\"a@b\" is not a valid address (it is not local@domain.tld)")
        // A very long value is quoted by its first 100 characters and its length.
        let huge = String(repeating: "z", count: 100_000)
        #expect(
            try refusal(huge)
                == "\"\(String(repeating: "z", count: 100))…\" (100000 characters) is not a valid address (it is not "
                + "local@domain.tld)")
    }

    @Test func phoneRefusalsSayWhatANationalNumberNeeds() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        try Migrations.apply(on: connection)
        func refusal(_ raw: String?, _ region: String?) throws -> String? {
            try connection.query("SELECT referral_sync_phone_refusal($1, $2)", [raw, region]).first?[0]
        }
        #expect(try refusal(nil, nil) == "missing")
        #expect(try refusal("+1 415 555 0101", nil) == nil)
        #expect(try refusal("(415) 555-0101", "US") == nil)
        #expect(
            try refusal("(415) 555-0101", nil)
                == "\"(415) 555-0101\" is not E.164 (a national number needs --default-phone-region)")
        #expect(try refusal("020 7946 0958", "us") == "\"020 7946 0958\" is neither E.164 nor a US national number")
    }

    @Test func outboundRemovalsAreCountedAndNamedByCodePoint() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        try Migrations.apply(on: connection)
        func removed(_ value: String?) throws -> String? {
            try connection.query("SELECT referral_sync_outbound_removed($1)", [value]).first?[0]
        }
        #expect(try removed(nil) == nil)
        #expect(try removed("https://shop.example/r/plain") == nil)
        #expect(try removed("a\u{202E}b\u{202E}c\u{7}") == "3 characters removed: U+0007, U+202E")
        #expect(try removed("\u{2066}x") == "1 character removed: U+2066")
        // The words and the rule agree on what is removed.
        let cleaned = try connection.query("SELECT referral_sync_outbound_text($1)", ["a\u{202E}b\u{9F}"]).first?[0]
        #expect(cleaned == "ab")
        #expect(try removed("a\u{202E}b\u{9F}") == "2 characters removed: U+009F, U+202E")
    }
}
