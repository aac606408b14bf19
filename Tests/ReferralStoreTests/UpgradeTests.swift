import Foundation
import Postgres
import TestSupport
import Testing

@testable import ReferralStore

/// A database migrated by the releases before the rules moved to `sql/definitions/` (their migrations are the
/// fixtures in `Fixtures/migrations-0006`, applied and recorded as those releases did) must, once migrated by this
/// build, have exactly the schema a fresh database gets, and recompute everyone once.
@Suite struct UpgradeTests {
    static let fixtures = repositoryRoot + "/Tests/ReferralStoreTests/Fixtures/migrations-0006"

    /// Applies the released migrations 0001…0006 the way their referral-sync did.
    func migrateAsReleased(_ connection: PostgresConnection) throws {
        try connection.run(
            """
            CREATE TABLE referral_sync_schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.fixtures).filter { $0.hasSuffix(".sql") }
        #expect(files.count == 6)
        for file in files.sorted() {
            var sql = try String(contentsOfFile: Self.fixtures + "/" + file, encoding: .utf8)
            if sql.hasSuffix("\n") { sql.removeLast() }
            let base = file.dropLast(4)
            let version = String(base.prefix(4))
            try connection.transaction {
                try connection.run(sql)
                try connection.execute(
                    "INSERT INTO referral_sync_schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    [String(Int(version) ?? 0), String(base.dropFirst(5)), Migrations.checksum(sql)])
            }
        }
    }

    /// Everything in the schema that a migration or a definition makes, as comparable text.
    func schema(_ connection: PostgresConnection) throws -> [String: [String]] {
        func rows(_ sql: String) throws -> [String] {
            try connection.query(sql).map { $0.values.map { $0 ?? "NULL" }.joined(separator: " | ") }
        }
        return [
            "functions": try rows(
                """
                SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid) FROM pg_proc p
                WHERE p.pronamespace = 'public'::regnamespace ORDER BY 1
                """),
            "relations": try rows(
                """
                SELECT c.relname, c.relkind, c.relpersistence FROM pg_class c
                WHERE c.relnamespace = 'public'::regnamespace ORDER BY 1
                """),
            "columns": try rows(
                """
                SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
                WHERE table_schema = 'public' ORDER BY table_name, ordinal_position
                """),
            "indexes": try rows("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"),
            "constraints": try rows(
                """
                SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
                WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2
                """),
            "triggers": try rows(
                "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2"),
        ]
    }

    func refresh(_ connection: PostgresConnection) throws -> String? {
        try connection.run("BEGIN ISOLATION LEVEL REPEATABLE READ")
        let mode = try connection.query(
            "SELECT mode, reason FROM referral_sync_refresh('2024-06-01T00:00:00Z', 'USD', 2, NULL, false)"
        ).first.map { "\($0[0] ?? ""): \($0[1] ?? "")" }
        try connection.run("COMMIT")
        return mode
    }

    @Test func aDatabaseMigratedByEarlierReleasesUpgradesToTheFreshSchema() throws {
        let fresh = try TestDatabase.create()
        defer { fresh.drop() }
        let upgraded = try TestDatabase.create()
        defer { upgraded.drop() }
        let freshConnection = try fresh.connect()
        defer { freshConnection.close() }
        let upgradedConnection = try upgraded.connect()
        defer { upgradedConnection.close() }

        try Migrations.apply(on: freshConnection)
        try migrateAsReleased(upgradedConnection)
        #expect(throws: SchemaError.self) { try Migrations.verify(on: upgradedConnection) }
        let applied = try Migrations.apply(on: upgradedConnection)
        #expect(applied.filter(\.appliedNow).map(\.version) == [7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19])
        try Migrations.verify(on: upgradedConnection)

        let expected = try schema(freshConnection)
        let actual = try schema(upgradedConnection)
        #expect(expected["functions"]?.isEmpty == false)
        for (part, rows) in expected {
            #expect(actual[part] == rows, "\(part) differ after the upgrade")
        }
    }

    @Test func theFirstRefreshAfterTheUpgradeRecomputesEveryone() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        try migrateAsReleased(connection)
        try connection.run(
            """
            INSERT INTO customers (customer_id, email, opted_in_at) VALUES ('c1', 'c1@example.com', '2024-01-01Z');
            """)
        #expect(try refresh(connection)?.hasPrefix("full") == true)
        #expect(try refresh(connection)?.hasPrefix("incremental") == true)
        try Migrations.apply(on: connection)
        #expect(try refresh(connection) == "full: the attribute definitions, PostgreSQL or its collation changed")
        #expect(try refresh(connection)?.hasPrefix("incremental") == true)
    }

    @Test func aChangedDefinitionRecomputesEveryone() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        try Migrations.apply(on: connection)
        #expect(try refresh(connection)?.hasPrefix("full") == true)
        #expect(try refresh(connection)?.hasPrefix("incremental") == true)
        // Another build's revenue rule, as a migrate of that build would leave it.
        try connection.run(
            """
            CREATE OR REPLACE FUNCTION referral_sync_revenue(exact_sum numeric, minor_units integer) RETURNS text
            LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT round(coalesce(exact_sum, 0), minor_units)::text $$
            """)
        #expect(try refresh(connection) == "full: the attribute definitions, PostgreSQL or its collation changed")
    }

    @Test func definitionsOfAnotherBuildAreReportedUntilMigrateReappliesThem() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        try Migrations.apply(on: connection)
        try connection.run("UPDATE referral_sync_schema_definitions SET checksum = 'x' WHERE name = '30_money'")
        try connection.run("INSERT INTO referral_sync_schema_definitions (name, checksum) VALUES ('99_gone', 'y')")
        #expect {
            try Migrations.verify(on: connection)
        } throws: { error in
            (error as? SchemaError)?.kind == .definitionsOutdated(names: ["30_money", "99_gone"])
        }
        try Migrations.apply(on: connection)
        try Migrations.verify(on: connection)
    }
}
