import Postgres

/// A database whose schema this version of referral-sync cannot use as it is.
public struct SchemaError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Some migrations of this version are not applied yet.
        case notMigrated(appliedVersion: Int, latestVersion: Int)
        /// The database was migrated by a newer referral-sync.
        case newerThanTool(databaseVersion: Int, toolVersion: Int)
        /// The definitions (`sql/definitions`) the database last got are not this build's: these files differ,
        /// are missing from the database, or are not this build's.
        case definitionsOutdated(names: [String])
        /// The database's encoding is not UTF8: the identity rules need Unicode text.
        case notUTF8(encoding: String)
        /// The server refused a statement of referral-sync's own SQL while `migrate` applied it (`file`: the
        /// migration or definition, `sqlState` and `message`: the server's). The migrations and definitions are one
        /// transaction: nothing of it is applied.
        case statementRefused(file: String, sqlState: String?, message: String)
    }
    public var kind: Kind

    public var description: String {
        switch kind {
        case .notMigrated(let applied, let latest):
            return "the database schema is at migration \(applied) but this referral-sync needs \(latest): "
                + "run `referral-sync migrate` first"
        case .newerThanTool(let database, let tool):
            return "the database was migrated by a newer referral-sync (migration \(database); this version knows "
                + "up to \(tool)): upgrade referral-sync, do not run an older version against it"
        case .definitionsOutdated(let names):
            return "the database's SQL definitions (\(names.joined(separator: ", "))) are not this referral-sync's: "
                + "run `referral-sync migrate` with this version first"
        case .notUTF8(let encoding):
            return "referral-sync needs a UTF8 database, this one is \(encoding)"
        case .statementRefused(let file, let sqlState, let message):
            return "the database refused referral-sync's \(file) (SQLSTATE \(sqlState ?? "unknown")): \(message); "
                + "migrate was rolled back, nothing of it is applied"
        }
    }
}

/// One migration as recorded in `referral_sync_schema_migrations`.
public struct AppliedMigration: Sendable, Equatable {
    public var version: Int
    public var name: String
    /// Whether this call applied it (false: it was already applied).
    public var appliedNow: Bool
}

/// Applies the SQL files of `sql/migrations/` in order, each once, and records them; then re-applies every file of
/// `sql/definitions/` (the living rules, `CREATE OR REPLACE`), like Flyway's repeatable scripts, and records each
/// with its checksum, so ``verify(on:)`` notices a database whose rules are another build's.
///
/// Migrations 0002, 0003, 0005 and 0006 once created those rules themselves; when the rules moved to
/// `sql/definitions/` their function bodies left those files. A database migrated before keeps their old
/// checksums in `referral_sync_schema_migrations` (a record of what was applied, never compared), and
/// migration 0007 plus the definitions bring it to exactly the schema a fresh database gets (a test checks it).
public enum Migrations {
    /// The highest migration version this build carries.
    public static var latestVersion: Int { SQL.migrations.map(\.version).max() ?? 0 }

    /// Applies every migration not yet applied, each in its own transaction, under an advisory lock so two
    /// concurrent `migrate` commands cannot interleave. Idempotent.
    /// - Throws: `SchemaError` when the database was migrated by a newer version, is not UTF8, or refused a
    ///   statement of a migration or definition (``SchemaError/Kind/statementRefused(file:sqlState:message:)``; the
    ///   transaction is rolled back); `PostgresError` when the connection fails.
    @discardableResult
    public static func apply(on connection: PostgresConnection) throws -> [AppliedMigration] {
        try connection.run(
            """
            CREATE TABLE IF NOT EXISTS referral_sync_schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        let encoding = try connection.query("SELECT current_setting('server_encoding')").first?[0] ?? ""
        guard encoding == "UTF8" else { throw SchemaError(kind: .notUTF8(encoding: encoding)) }
        return try connection.transaction {
            try connection.query(
                "SELECT pg_advisory_xact_lock($1)", [String(try StoreKeys.key(.migration, on: connection))])
            let applied = try appliedVersions(on: connection)
            if let newest = applied.keys.max(), newest > latestVersion {
                throw SchemaError(kind: .newerThanTool(databaseVersion: newest, toolVersion: latestVersion))
            }
            var result: [AppliedMigration] = []
            for migration in SQL.migrations.sorted(by: { $0.version < $1.version }) {
                if applied[migration.version] != nil {
                    result.append(AppliedMigration(version: migration.version, name: migration.name, appliedNow: false))
                    continue
                }
                try refused(as: migration.fileName) { try runStatements(of: migration.sql, on: connection) }
                try connection.execute(
                    "INSERT INTO referral_sync_schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    [String(migration.version), migration.name, checksum(migration.sql)])
                result.append(AppliedMigration(version: migration.version, name: migration.name, appliedNow: true))
            }
            try applyDefinitions(on: connection)
            return result
        }
    }

    /// Checks that the database is at exactly this build's schema.
    /// - Throws: `SchemaError` telling the user to run `referral-sync migrate`, or to upgrade.
    public static func verify(on connection: PostgresConnection) throws {
        let exists = try connection.query("SELECT to_regclass('referral_sync_schema_migrations') IS NOT NULL")
        guard exists.first?.bool(0) == true else {
            throw SchemaError(kind: .notMigrated(appliedVersion: 0, latestVersion: latestVersion))
        }
        let applied = try appliedVersions(on: connection)
        let newest = applied.keys.max() ?? 0
        if newest > latestVersion {
            throw SchemaError(kind: .newerThanTool(databaseVersion: newest, toolVersion: latestVersion))
        }
        let missing = SQL.migrations.map(\.version).filter { applied[$0] == nil }
        if let first = missing.min() {
            throw SchemaError(kind: .notMigrated(appliedVersion: first - 1, latestVersion: latestVersion))
        }
        var recorded: [String: String] = [:]
        for row in try connection.query("SELECT name, checksum FROM referral_sync_schema_definitions") {
            if let name = try row.value("name") { recorded[name] = try row.value("checksum") ?? "" }
        }
        let expected = definitionChecksums
        let differing = Set(recorded.keys).union(expected.keys).filter { recorded[$0] != expected[$0] }
        if !differing.isEmpty {
            throw SchemaError(kind: .definitionsOutdated(names: differing.sorted()))
        }
    }

    /// Each file of `sql/definitions/` by name, with the checksum of its text.
    static var definitionChecksums: [String: String] {
        Dictionary(uniqueKeysWithValues: SQL.definitions.map { ($0.name, checksum($0.sql)) })
    }

    /// Runs every definition in file order (each is idempotent) and records exactly this build's set. Inside the
    /// migration transaction: a definition that fails rolls the whole migrate back.
    private static func applyDefinitions(on connection: PostgresConnection) throws {
        for definition in SQL.definitions {
            try refused(as: "sql/definitions/\(definition.name).sql") {
                try runStatements(of: definition.sql, on: connection)
            }
        }
        try connection.run("DELETE FROM referral_sync_schema_definitions")
        for definition in SQL.definitions {
            try connection.execute(
                "INSERT INTO referral_sync_schema_definitions (name, checksum) VALUES ($1, $2)",
                [definition.name, checksum(definition.sql)])
        }
    }

    /// Runs a file's statements one at a time (``SQLScript``): Citus propagates each DDL statement to its workers
    /// with the text it was sent, and refuses a text of several (issue 28).
    static func runStatements(of script: String, on connection: PostgresConnection) throws {
        for statement in SQLScript.statements(script) { try connection.run(statement) }
    }

    /// Runs one file of referral-sync's own SQL; a statement the server refuses (not a lost connection) becomes a
    /// ``SchemaError`` naming the file: a migration failure, never a fault of the input data.
    private static func refused(as file: String, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as PostgresError where !error.isConnectionProblem && error.sqlState != nil {
            throw SchemaError(
                kind: .statementRefused(file: file, sqlState: error.sqlState, message: error.message))
        }
    }

    private static func appliedVersions(on connection: PostgresConnection) throws -> [Int: String] {
        var versions: [Int: String] = [:]
        for row in try connection.query("SELECT version, name FROM referral_sync_schema_migrations") {
            if let version = try row.value("version").flatMap({ Int($0) }) {
                versions[version] = try row.value("name") ?? ""
            }
        }
        return versions
    }

    /// FNV-1a 64 of the SQL text: enough to notice an applied migration edited afterwards.
    static func checksum(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
