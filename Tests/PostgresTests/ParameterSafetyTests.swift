import Postgres
import TestSupport
import Testing

/// Values reach the server as parameters, whole or not at all; connection strings are checked without echoing
/// what might be a password.
@Suite struct ParameterSafetyTests {
    @Test func aNULInAParameterIsRefusedRatherThanCut() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        try connection.run("CREATE TABLE t (value text)")
        let error = #expect(throws: PostgresError.self) {
            try connection.execute("INSERT INTO t VALUES ($1)", ["before\u{0}after"])
        }
        #expect(error?.sqlState == "22021")
        #expect(error?.message == "parameter $1 contains a NUL character, which PostgreSQL text cannot hold")
        #expect(try connection.query("SELECT count(*) FROM t").first?.int(0) == 0)
        // Everything else, quotes and backslashes included, goes through unchanged.
        let hostile = #"'; DROP TABLE t; -- $1 \N \\ "#
        try connection.execute("INSERT INTO t VALUES ($1)", [hostile])
        #expect(try connection.query("SELECT value FROM t").first?[0] == hostile)
    }

    @Test func aMalformedConninfoIsExplainedWithoutItsFragments() {
        #expect(Conninfo.parseProblem("host=db.internal dbname=shop user=sync") == nil)
        #expect(Conninfo.parseProblem("postgresql://sync:secret@db.internal:5432/shop") == nil)
        let spaced = Conninfo.parseProblem("host=db password=se cret")
        #expect(spaced?.contains("missing") == true)
        #expect(spaced?.contains("cret") == false)
        let unknown = Conninfo.parseProblem("hots=db")
        #expect(unknown?.contains("invalid connection option") == true)
        let badURI = Conninfo.parseProblem("postgresql://sync:p%zzword@db/shop")
        #expect(badURI != nil)
        #expect(badURI?.contains("p%zzword") == false)
    }
}
