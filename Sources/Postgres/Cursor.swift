/// A server-side cursor read in batches: memory stays flat however many rows the query returns, and the per-row
/// cost stays low (one result per batch, not per row as in single-row mode).
///
/// While the caller works through one batch, the next `FETCH` is already running on the server (sent
/// asynchronously when the batch arrived), so the server's per-row work (joins, formatting) and the caller's
/// (decoding, reports, requests) overlap instead of taking turns. At most two batches are held at a time.
///
/// Open it inside a transaction. The cursor is planned for the whole result (`cursor_tuple_fraction = 1`), so
/// it gets the same plan as the plain query would (except that PostgreSQL never runs a cursor's plan in
/// parallel workers).
public final class RowCursor {
    private let connection: PostgresConnection
    private let name: String
    private let fetchSize: Int
    private var batch: [PostgresRow] = []
    private var position = 0
    private var exhausted = false
    /// Whether a `FETCH` was sent and its result not yet collected.
    private var prefetching = false

    /// Declares the cursor.
    /// - Parameters:
    ///   - sql: One query with `$1`, `$2`, … placeholders.
    ///   - parameters: Text values for the placeholders; `nil` is NULL.
    ///   - name: The cursor's name, unique within the transaction.
    ///   - fetchSize: Rows per round trip.
    public init(
        on connection: PostgresConnection, sql: String, parameters: [String?] = [],
        name: String = "referral_sync_cursor",
        fetchSize: Int = 5000
    ) throws {
        self.connection = connection
        self.name = name
        self.fetchSize = max(1, fetchSize)
        try connection.run("SET LOCAL cursor_tuple_fraction = 1")
        try connection.execute("DECLARE \(name) NO SCROLL CURSOR FOR " + sql, parameters)
    }

    private var fetchStatement: String { "FETCH FORWARD \(fetchSize) FROM \(name)" }

    /// The next row, or `nil` after the last one.
    public func next() throws -> PostgresRow? {
        if position == batch.count {
            if exhausted { return nil }
            if prefetching {
                prefetching = false
                batch = try connection.receiveRows()
            } else {
                batch = try connection.query(fetchStatement)
            }
            position = 0
            if batch.count < fetchSize {
                exhausted = true
            } else {
                try connection.send(fetchStatement)
                prefetching = true
            }
            if batch.isEmpty { return nil }
        }
        defer { position += 1 }
        return batch[position]
    }

    /// Closes the cursor (the transaction's end closes it too), first collecting a `FETCH` still in flight.
    public func close() throws {
        if prefetching {
            prefetching = false
            _ = try? connection.receiveRows()
        }
        exhausted = true
        batch = []
        try connection.run("CLOSE \(name)")
    }
}

extension PostgresConnection {
    /// Runs a query through a ``RowCursor`` and hands every row to `body`. Call inside a transaction.
    public func forEachRow(
        cursor sql: String, _ parameters: [String?] = [], fetchSize: Int = 5000, _ body: (PostgresRow) throws -> Void
    ) throws {
        let cursor = try RowCursor(on: self, sql: sql, parameters: parameters, fetchSize: fetchSize)
        do {
            while let row = try cursor.next() { try body(row) }
        } catch {
            try? cursor.close()
            throw error
        }
        try cursor.close()
    }
}
