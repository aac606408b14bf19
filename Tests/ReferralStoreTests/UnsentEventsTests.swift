import Foundation
import Postgres
import ReferralModel
import TestSupport
import Testing

@testable import ReferralStore

/// `UnsentEvents`: the ledger's unsent events a chunk at a time, fresh before history, each once per reader.
@Suite struct UnsentEventsTests {
    /// 2025-01-10T00:00:00Z.
    static let freshSince = Timestamp(microsecondsSinceEpoch: 1_736_467_200_000_000)

    /// A migrated database whose ledger holds `history` events dated 2025-01-01 and `fresh` dated 2025-01-10.
    static func ledger(history: Int, fresh: Int) throws -> (TestDatabase, PostgresConnection) {
        let database = try TestDatabase.create()
        let connection = try database.connect()
        try Migrations.apply(on: connection)
        try connection.run(
            """
            INSERT INTO referral_sync_events (event_key, event_id, type, role, source_row, occurred_at, body, state)
            SELECT 'history|' || lpad(i::text, 4, '0'), gen_random_uuid(), 't', 'referrer', 'customers:h' || i,
                   timestamptz '2025-01-01 00:00:00Z' + i * interval '1 minute', '{}', 'pending'
            FROM generate_series(1, \(history)) AS i;
            INSERT INTO referral_sync_events (event_key, event_id, type, role, source_row, occurred_at, body, state)
            SELECT 'fresh|' || lpad(i::text, 4, '0'), gen_random_uuid(), 't', 'referrer', 'customers:f' || i,
                   timestamptz '2025-01-10 00:00:00Z' + i * interval '1 minute', '{}', 'pending'
            FROM generate_series(1, \(fresh)) AS i;
            """)
        return (database, connection)
    }

    static func reader(_ connection: PostgresConnection, chunkSize: Int) throws -> UnsentEvents {
        try UnsentEvents(on: connection, shard: .all, freshSince: freshSince, chunkSize: chunkSize)
    }

    /// Every chunk of `reader` until it is empty, each chunk's keys.
    static func chunks(_ reader: UnsentEvents) throws -> [[String]] {
        var chunks: [[String]] = []
        while case let chunk = try reader.next(), !chunk.isEmpty { chunks.append(chunk.map(\.key)) }
        return chunks
    }

    @Test func chunksTakeTheFreshEventsFirstThenTheHistoryOldestFirstEachOnce() throws {
        let (database, connection) = try Self.ledger(history: 7, fresh: 3)
        defer { database.drop() }
        defer { connection.close() }
        let chunks = try Self.chunks(try Self.reader(connection, chunkSize: 4))
        #expect(chunks.map(\.count) == [4, 4, 2])
        #expect(
            chunks.flatMap { $0 } == (1...3).map { "fresh|000\($0)" } + (1...7).map { "history|000\($0)" })
    }

    @Test func aFreshEventAddedMidwayIsTheNextChunksFirst() throws {
        let (database, connection) = try Self.ledger(history: 9, fresh: 0)
        defer { database.drop() }
        defer { connection.close() }
        let reader = try Self.reader(connection, chunkSize: 3)
        #expect(try reader.next().map(\.key) == ["history|0001", "history|0002", "history|0003"])
        try connection.run(
            """
            INSERT INTO referral_sync_events (event_key, event_id, type, role, source_row, occurred_at, body, state)
            VALUES ('late fresh', gen_random_uuid(), 't', 'referrer', 'customers:x', '2025-01-10 12:00:00Z', '{}',
                    'pending')
            """)
        reader.rereadFresh()
        #expect(try reader.next().map(\.key) == ["late fresh", "history|0004", "history|0005"])
    }

    @Test func anEventTriedByThisReaderIsNotReadAgainButANewReaderReadsIt() throws {
        let (database, connection) = try Self.ledger(history: 0, fresh: 2)
        defer { database.drop() }
        defer { connection.close() }
        let reader = try Self.reader(connection, chunkSize: 5)
        let first = try reader.next()
        #expect(first.count == 2)
        // Tried and failed; the fresh part is read again from its start.
        try EventLedger.markInFlight(first.map(\.key), runID: 1, on: connection)
        for event in first {
            try EventLedger.recordOutcome(
                key: event.key, delivered: false, httpStatus: 503, error: "unavailable", attempts: 1, runID: 1,
                on: connection)
        }
        reader.rereadFresh()
        #expect(try reader.next().isEmpty)
        // The next run, or a follower's next pass in the same run, sends them again.
        #expect(try Self.chunks(try Self.reader(connection, chunkSize: 5)).flatMap { $0 }.count == 2)
    }
}
