import Foundation
import Postgres
import ReferralModel
import ReferralStore
import TestSupport
import Testing

/// A full recompute replaces the kept rows without leaving the old ones behind (issue 27): repeated, the kept
/// tables do not grow; beside a reader that still holds them, it waits briefly and takes the old way (DELETE), and
/// both ways keep the same rows.
@Suite struct FullRecomputeTests {
    static let keptTables = [
        "referral_sync_participant_values", "referral_sync_rejected_rows", "referral_sync_revenue_kept_lines",
        "referral_sync_counted_referrals",
    ]

    /// The kept tables' size on disk, indexes included, in bytes.
    static func keptSize(_ connection: PostgresConnection) throws -> Int {
        let sizes = keptTables.map { "pg_total_relation_size('\($0)')" }.joined(separator: " + ")
        return try connection.query("SELECT (\(sizes))::bigint").first?.int(0) ?? 0
    }

    /// Every kept row, as text, sorted, by table.
    static func keptRows(_ connection: PostgresConnection) throws -> [String: [String]] {
        try Dictionary(
            uniqueKeysWithValues: keptTables.map { table in
                (table, try connection.query("SELECT t::text FROM \(table) t ORDER BY 1").map { $0[0] ?? "" })
            })
    }

    static func setUp() throws -> (TestDatabase, PostgresConnection, RecomputeParameters) {
        let database = try TestDatabase.create()
        let connection = try database.connect()
        _ = try Migrations.apply(on: connection)
        try FuzzTests.load(FuzzHistory(seed: 11), into: database)
        let usd = try #require(Currency(code: "USD"))
        let parameters = RecomputeParameters(asOf: Timestamp(microsecondsSinceEpoch: FuzzHistory.asOf), currency: usd)
        return (database, connection, parameters)
    }

    @Test func repeatedFullRecomputesKeepTheKeptTablesFlat() throws {
        let (database, connection, parameters) = try Self.setUp()
        defer {
            connection.close()
            database.drop()
        }
        _ = try ParticipantStateStore.refresh(on: connection, parameters, full: true)
        let first = try Self.keptSize(connection)
        let rows = try Self.keptRows(connection)
        for _ in 0..<5 { _ = try ParticipantStateStore.refresh(on: connection, parameters, full: true) }
        let sixth = try Self.keptSize(connection)
        #expect(first > 0)
        // A DELETE-based refresh left every old row behind: six refreshes made the tables about six times larger.
        #expect(sixth <= first + first / 10, "kept tables grew from \(first) to \(sixth) bytes")
        #expect(try Self.keptRows(connection) == rows)
    }

    @Test func aReaderHoldingTheKeptTablesMakesTheFullRecomputeDeleteInstead() throws {
        let (database, connection, parameters) = try Self.setUp()
        defer {
            connection.close()
            database.drop()
        }
        _ = try ParticipantStateStore.refresh(on: connection, parameters, full: true)
        let rows = try Self.keptRows(connection)
        // A shard streaming the last values: its transaction holds the tables (ACCESS SHARE) until it ends.
        let reader = try database.connect()
        defer { reader.close() }
        try reader.run("BEGIN ISOLATION LEVEL REPEATABLE READ")
        _ = try reader.query("SELECT count(*) FROM referral_sync_participant_values")
        let refresh = try ParticipantStateStore.refresh(on: connection, parameters, full: true)
        #expect(refresh.mode == .full)
        // The reader still sees its snapshot: nothing was truncated under it.
        #expect(
            try reader.query("SELECT count(*) FROM referral_sync_participant_values").first?[0]
                == String(rows["referral_sync_participant_values"]?.count ?? -1))
        try reader.run("COMMIT")
        #expect(try Self.keptRows(connection) == rows)
    }
}
