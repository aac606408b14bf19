import Foundation
import TestSupport
import Testing

/// A statement of referral-sync's own SQL that the server refuses while `migrate` applies it is a migration failure
/// (exit 78, naming the file and the server's words; nothing changed), never "check the input tables" (65): the
/// first Citus try hit exactly that (issue 28).
@Suite struct MigrationFailureTests {
    @Test func aRefusedMigrationStatementIsAConfigurationErrorNamingItsFile() async throws {
        let database = try await offThePool { try TestDatabase.create(prefix: "refused") }
        defer { database.drop() }
        // An object of the input tables' name that is not a table: the migration's index on it is refused (42809).
        try database.run("CREATE VIEW customers AS SELECT 'c1'::text AS customer_id")
        let migrate = try await JobProcess.run(["migrate"], environment: ["DATABASE_URL": database.conninfo])
        #expect(migrate.status == 78, "\(migrate.stderr)")
        #expect(migrate.stderr.contains("sql/migrations/0001_input_tables.sql"), "\(migrate.stderr)")
        #expect(migrate.stderr.contains("SQLSTATE"), "\(migrate.stderr)")
        #expect(!migrate.stderr.contains("input tables against the README"), "\(migrate.stderr)")
        // The transaction was rolled back: no migration is recorded, no table of 0001 is there.
        #expect(try database.query("SELECT count(*) FROM referral_sync_schema_migrations").first?[0] == "0")
        #expect(try database.query("SELECT to_regclass('referrals') IS NULL").first?[0] == "t")
    }
}
