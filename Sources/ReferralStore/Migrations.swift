import Postgres

/// A database whose schema this version of referral-sync cannot use as it is.
public struct SchemaError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Some migrations of this version are not applied yet.
        case notMigrated(appliedVersion: Int, latestVersion: Int)
        /// The database was migrated by a newer referral-sync.
        case newerThanTool(databaseVersion: Int, toolVersion: Int)
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

/// Applies the SQL files of `sql/migrations/` in order, each once, and records them.
public enum Migrations {
    /// The highest migration version this build carries.
    public static var latestVersion: Int { SQL.migrations.map(\.version).max() ?? 0 }

    /// Applies every migration not yet applied, each in its own transaction, under an advisory lock so two
    /// concurrent `migrate` commands cannot interleave. Idempotent.
    /// - Throws: `SchemaError` when the database was migrated by a newer version; `PostgresError` when a
    ///   statement fails (that migration is rolled back).
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
        return try connection.transaction {
            try connection.query("SELECT pg_advisory_xact_lock(7226175001)")
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
                try connection.run(migration.sql)
                try connection.execute(
                    "INSERT INTO referral_sync_schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    [String(migration.version), migration.name, checksum(migration.sql)])
                result.append(AppliedMigration(version: migration.version, name: migration.name, appliedNow: true))
            }
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
    }

    private static func appliedVersions(on connection: PostgresConnection) throws -> [Int: String] {
        var versions: [Int: String] = [:]
        for row in try connection.query("SELECT version, name FROM referral_sync_schema_migrations") {
            if let version = row.int(0) { versions[version] = row[1] ?? "" }
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
