import TestSupport
import Testing

@testable import Postgres

/// Text-array parameters: every element, whatever it holds, reaches PostgreSQL as it was, `nil` as `NULL`.
@Suite struct ArrayParameterTests {
    @Test func everyElementRoundTripsThroughATextArrayParameter() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        let elements: [String?] = [
            "plain", "", nil, "NULL", "with \"quotes\"", "back\\slash", "{braces},commas", "  spaces  ", "line\nbreak",
            "tab\there", "ünïcødé 🎉", "'single'",
        ]
        let rows = try connection.query(
            "SELECT value, position FROM unnest($1::text[]) WITH ORDINALITY AS a(value, position) ORDER BY position",
            [PostgresArray.literal(elements)])
        #expect(rows.map { $0[0] } == elements)
    }

    @Test func anEmptySequenceIsAnEmptyArray() {
        #expect(PostgresArray.literal([String?]()) == "{}")
    }
}
