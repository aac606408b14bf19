import Foundation
import Postgres
import TestSupport
import Testing

@testable import ReferralStore

@Suite struct MigrationTests {
    @Test func migrateIsIdempotentAndRecordsEachMigration() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        let first = try Migrations.apply(on: connection)
        #expect(first.allSatisfy { $0.appliedNow })
        let second = try Migrations.apply(on: connection)
        #expect(second.allSatisfy { !$0.appliedNow })
        #expect(second.map(\.version) == first.map(\.version))
        let recorded = try connection.query("SELECT count(*) FROM referral_sync_schema_migrations").first?.int(0)
        // One row per migration this build carries (numbers may leave a gap: 0017 was numbered beside another
        // branch's 0016).
        #expect(recorded == SQL.migrations.count)
        try Migrations.verify(on: connection)
    }

    @Test func unmigratedDatabaseIsReported() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        #expect(throws: SchemaError.self) { try Migrations.verify(on: connection) }
    }

    @Test func databaseMigratedByANewerVersionIsRefused() throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        try Migrations.apply(on: connection)
        try connection.execute(
            "INSERT INTO referral_sync_schema_migrations (version, name, checksum) VALUES ($1, 'future', 'x')",
            [String(Migrations.latestVersion + 1)])
        #expect(throws: SchemaError.self) { try Migrations.apply(on: connection) }
        #expect(throws: SchemaError.self) { try Migrations.verify(on: connection) }
    }

    /// The build-tool plugin embeds each file's text unchanged (quotes, backslashes, `#` and all).
    @Test func embeddedSQLIsTheTextOfTheFilesInSqlFolder() throws {
        func file(_ path: String) throws -> String {
            try String(contentsOfFile: repositoryRoot + "/sql/" + path, encoding: .utf8)
        }
        for migration in SQL.migrations {
            let name = String(format: "migrations/%04d_%@.sql", migration.version, migration.name)
            #expect(try migration.sql + "\n" == file(name), "\(name)")
        }
        for definition in SQL.definitions {
            #expect(try definition.sql + "\n" == file("definitions/\(definition.name).sql"), "\(definition.name)")
        }
        #expect(try SQL.participantAttributes + "\n" == file("queries/participant_attributes.sql"))
        #expect(try SQL.rejectedRows + "\n" == file("queries/rejected_rows.sql"))
        #expect(try SQL.rowAccounting + "\n" == file("queries/row_accounting.sql"))
    }
}
