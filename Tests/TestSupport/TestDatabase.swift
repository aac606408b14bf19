import Foundation
import Postgres

/// A fresh database on the throwaway cluster that `make test` starts (scripts/with-postgres.sh), one per test,
/// so tests never share rows. Dropped by ``drop()``.
public struct TestDatabase: Sendable {
    /// The database's name.
    public let name: String
    /// A libpq conninfo for it.
    public let conninfo: String

    /// Why a test cannot get a database.
    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
    }

    /// The cluster's conninfo without a database name, from the environment `make test` sets.
    public static func serverConninfo() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        guard let host = environment["PGHOST"], let port = environment["PGPORT"] else {
            throw Unavailable(
                description:
                    "PGHOST/PGPORT are not set: run the tests with `make test`, which starts a throwaway PostgreSQL")
        }
        let user = environment["PGUSER"] ?? "referral"
        return "host=\(host) port=\(port) user=\(user)"
    }

    /// Creates an empty database with a unique name, on the suite's cluster or on `server` (a conninfo without a
    /// database name).
    public static func create(prefix: String = "t", server given: String? = nil) throws -> TestDatabase {
        let server = try given ?? serverConninfo()
        let name = "\(prefix)_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16))"
        let admin = try PostgresConnection(conninfo: server + " dbname=postgres")
        defer { admin.close() }
        try admin.run("CREATE DATABASE \(name)")
        return TestDatabase(name: name, conninfo: server + " dbname=\(name)")
    }

    /// Opens a connection to this database.
    public func connect() throws -> PostgresConnection { try PostgresConnection(conninfo: conninfo) }

    /// Runs SQL (several statements allowed) on this database.
    public func run(_ sql: String) throws {
        let connection = try connect()
        defer { connection.close() }
        try connection.run(sql)
    }

    /// Runs a query and returns its rows.
    public func query(_ sql: String, _ parameters: [String?] = []) throws -> [PostgresRow] {
        let connection = try connect()
        defer { connection.close() }
        return try connection.query(sql, parameters)
    }

    /// How many sessions hold an advisory lock in this database (a run holds its lock this way).
    public func advisoryLocksHeld() throws -> Int {
        try query(
            """
            SELECT count(*) FROM pg_locks
            WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """
        ).first?.int(0) ?? 0
    }

    /// Drops the database (ends its other sessions first).
    public func drop() {
        guard let server = try? TestDatabase.serverConninfo(),
            let admin = try? PostgresConnection(conninfo: server + " dbname=postgres")
        else { return }
        defer { admin.close() }
        try? admin.run("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }
}

/// The repository's root folder, found from this file's path (tests read `sql/` and run scripts from it).
public let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// A new empty temporary folder.
public func makeTemporaryFolder(_ prefix: String = "referral-sync-test") throws -> String {
    let path = NSTemporaryDirectory() + "/\(prefix)-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Polls `condition` every 20 ms for at most `seconds`; returns whether it came to hold. For waiting on another
/// process or task, never for asserting how long something took.
public func waitUntil(seconds: Double = 60, _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try condition()
}

/// Runs blocking work (libpq calls: a database created and migrated) on a thread of its own and awaits it, so a
/// test's set-up does not hold one of the cooperative pool's threads (two on a two-core machine): a hundred tests
/// setting up at once left none for the tests already running, whose jobs then could not start for a minute.
public func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try work() }) }
        thread.stackSize = 1 << 20
        thread.start()
    }
}

extension TestDatabase {
    /// Drops the database on a thread of its own, without waiting: for a deinit, which may run on the pool.
    public func dropInBackground() {
        let database = self
        Thread { database.drop() }.start()
    }
}
