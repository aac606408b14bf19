import Foundation
import TestSupport
import Testing

@testable import Postgres

/// Rows read by column name: every way of reading a result knows its columns, and a name the result lacks fails
/// loudly with that name.
@Suite struct ColumnNameTests {
    @Test func everyWayOfReadingAResultKnowsItsColumnNames() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        let sql = "SELECT g AS number, 'x' || g AS \"Label\", NULL::text AS nothing FROM generate_series(1, 3) g"
        let queried = try connection.query(sql)
        #expect(queried.first?.columns.names == ["number", "Label", "nothing"])
        #expect(try queried.last?.value("number") == "3")
        #expect(try queried.last?.value("Label") == "x3")
        #expect(try queried.last?.value("nothing") == nil)
        var streamed: [String?] = []
        try connection.forEachRow(sql) { streamed.append(try $0.value("Label")) }
        #expect(streamed == ["x1", "x2", "x3"])
        var fetched: [String?] = []
        try connection.transaction {
            try connection.forEachRow(cursor: sql, fetchSize: 2) { fetched.append(try $0.value("number")) }
        }
        #expect(fetched == ["1", "2", "3"])
    }

    @Test func aNameIsResolvedExactlyWithoutCaseFolding() throws {
        let columns = PostgresColumns(names: ["id", "Label", "id"])
        #expect(try columns.index(of: "Label") == 1)
        #expect(try columns.index(of: "id") == 0)
        #expect(throws: PostgresError.self) { try columns.index(of: "label") }
    }

    @Test func aMissingColumnFailsWithItsName() throws {
        let row = PostgresRow(values: ["1"], columns: PostgresColumns(names: ["customer_id"]))
        #expect {
            try row.value("revenue")
        } throws: { error in
            guard let error = error as? PostgresError else { return false }
            return error.code == .missingColumn && error.message.contains("\"revenue\"")
                && error.message.contains("customer_id")
        }
    }

    @Test func rowsCompareByTheirValues() {
        #expect(PostgresRow(values: ["a"]) == PostgresRow(values: ["a"], columns: PostgresColumns(names: ["v"])))
    }
}
