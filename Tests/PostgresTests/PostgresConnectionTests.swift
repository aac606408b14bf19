import Foundation
import TestSupport
import Testing

@testable import Postgres

@Suite struct PostgresConnectionTests {
    @Test func parametersAreNeverInterpretedAsSQL() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        try connection.run("CREATE TABLE t (v text)")
        let hostile = "'; DROP TABLE t; -- $1 \\ \"q\""
        try connection.execute("INSERT INTO t VALUES ($1)", [hostile])
        #expect(try connection.query("SELECT v FROM t").first?[0] == hostile)
    }

    @Test func cursorStreamsEveryRowInBatches() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        var seen = 0
        var last = 0
        try connection.transaction {
            try connection.forEachRow(cursor: "SELECT g FROM generate_series(1, $1::int) g", ["12345"], fetchSize: 1000)
            {
                seen += 1
                last = $0.int(0) ?? 0
            }
        }
        #expect(seen == 12345)
        #expect(last == 12345)
    }

    @Test func cursorClosedBeforeTheEndLeavesTheConnectionUsable() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        try connection.run("BEGIN")
        let cursor = try RowCursor(
            on: connection, sql: "SELECT g FROM generate_series(1, 10000) g", name: "early", fetchSize: 100)
        for expected in 1...150 { #expect(try cursor.next()?.int(0) == expected) }
        // The second batch's FETCH was sent ahead when the first arrived; closing must collect it first.
        try cursor.close()
        #expect(try connection.query("SELECT 41 + 1").first?.int(0) == 42)
        try connection.run("COMMIT")
    }

    @Test func copyInEscapesTabsNewlinesAndBackslashes() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        try connection.run("CREATE TABLE t (a text, b text)")
        let rows: [[String?]] = [["tab\there", "new\nline"], ["back\\slash", nil]]
        #expect(try connection.copyIn("COPY t FROM STDIN", rows: rows) == 2)
        let back = try connection.query("SELECT a, b FROM t ORDER BY a")
        #expect(back.map(\.values) == [["back\\slash", nil], ["tab\there", "new\nline"]])
    }

    @Test func serverErrorsCarrySQLState() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        do {
            try connection.query("SELECT * FROM no_such_table")
            Issue.record("expected an error")
        } catch let error as PostgresError {
            #expect(error.sqlState == "42P01")
            #expect(error.code == .statementFailed)
        }
    }

    @Test func wrongPasswordIsAnAuthenticationFailureWithoutThePassword() throws {
        let environment = ProcessInfo.processInfo.environment
        let port = try #require(environment["PGPORT"])
        let secret = "wrong-secret-\(UUID().uuidString)"
        do {
            _ = try PostgresConnection(conninfo: "postgresql://password_user:\(secret)@127.0.0.1:\(port)/postgres")
            Issue.record("expected the password to be refused")
        } catch let error as PostgresError {
            #expect(error.isAuthenticationFailure)
            #expect(error.code == .authenticationFailed)
            #expect(!error.description.contains(secret))
        }
    }

    /// The kind of a connection failure comes from libpq's status and flags, not from the message, which
    /// follows the server's `lc_messages`.
    @Test func connectionFailuresAreToldApartWithoutReadingTheMessage() throws {
        let port = try #require(ProcessInfo.processInfo.environment["PGPORT"])
        func failure(_ conninfo: String) -> PostgresError? {
            do {
                _ = try PostgresConnection(conninfo: conninfo, connectTimeoutSeconds: 2)
                return nil
            } catch { return error as? PostgresError }
        }
        let malformed = failure("host=127.0.0.1 password=se cret")
        #expect(malformed?.code == .invalidConnectionString)
        #expect(malformed?.description.contains("cret") == false)
        #expect(failure("postgresql://sync:p%zzword@127.0.0.1/shop")?.code == .invalidConnectionString)

        let unreachable = failure("host=127.0.0.1 port=1 dbname=postgres")
        #expect(unreachable?.code == .connectionFailed)
        #expect(unreachable?.isConnectionProblem == true)
        #expect(unreachable?.isAuthenticationFailure == false)

        let noPassword = failure("host=127.0.0.1 port=\(port) user=password_user dbname=postgres")
        #expect(noPassword?.code == .authenticationFailed)
        #expect(noPassword?.isConnectionProblem == false)

        let noDatabase = failure("host=127.0.0.1 port=\(port) dbname=no_such_database_\(UUID().uuidString.prefix(8))")
        #expect(noDatabase?.code == .connectionFailed)

        // After a password was asked for, libpq's flags cannot tell a missing database from a refused password
        // (only the server's words could, in its language): both are a configuration to fix (README, exit 78).
        let afterPassword = failure(
            "postgresql://password_user:correct-horse-battery@127.0.0.1:\(port)/no_such_database")
        #expect(afterPassword?.code == .authenticationFailed)
    }

    @Test func advisoryLockIsExclusiveAndFreedByDisconnecting() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let first = try database.connect()
        let second = try database.connect()
        defer { second.close() }
        #expect(try first.tryAdvisoryLock(42))
        #expect(try !second.tryAdvisoryLock(42))
        first.close()
        // The server notices the disconnect asynchronously: allow it a moment.
        var acquired = false
        for _ in 0..<100 where !acquired {
            acquired = try second.tryAdvisoryLock(42)
            if !acquired { usleep(20_000) }
        }
        #expect(acquired)
    }
}
