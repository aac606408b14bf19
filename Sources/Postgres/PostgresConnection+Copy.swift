import CLibPQ

extension PostgresConnection {
    /// Streams the output of `COPY (query) TO STDOUT` (text format) and hands each row to `body`.
    ///
    /// COPY is the cheapest way to move many rows out of PostgreSQL: the server formats them once and the
    /// client only splits lines, so a full recompute costs about what `psql` needs to read the same query.
    /// - Parameter copyStatement: A complete `COPY (…) TO STDOUT` statement. COPY takes no parameters; callers
    ///   pass values through session settings or a prepared temp table, never by splicing user input.
    public func copyOut(_ copyStatement: String, _ body: (PostgresRow) throws -> Void) throws {
        let connection = try liveHandle()
        let start = PQexec(connection, copyStatement)
        defer { PQclear(start) }
        try check(start, expecting: [PGRES_COPY_OUT])
        var failure: Error?
        var fields: [String?] = []
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(connection, &buffer, 0)
            if length == -1 { break }  // done; the final result follows
            if length < -1 { throw connectionError(code: .copyFailed) }
            guard let buffer else { continue }
            defer { PQfreemem(buffer) }
            if failure != nil { continue }
            let bytes = UnsafeRawBufferPointer(start: buffer, count: Int(length))
            CopyTextFormat.decodeRow(bytes, into: &fields)
            do { try body(PostgresRow(values: fields)) } catch { failure = error }
        }
        while let result = PQgetResult(connection) {
            defer { PQclear(result) }
            let status = PQresultStatus(result)
            if status != PGRES_COMMAND_OK && failure == nil { failure = resultError(result) }
        }
        if let failure { throw failure }
    }

    /// Loads rows with `COPY table (columns) FROM STDIN` (text format).
    /// - Parameters:
    ///   - copyStatement: A complete `COPY … FROM STDIN` statement.
    ///   - rows: The rows; each value is text or `nil` for NULL. Values are escaped, never interpreted.
    /// - Returns: The number of rows the server loaded.
    @discardableResult
    public func copyIn<Rows: Sequence>(_ copyStatement: String, rows: Rows) throws -> Int
    where Rows.Element == [String?] {
        let connection = try liveHandle()
        let start = PQexec(connection, copyStatement)
        defer { PQclear(start) }
        try check(start, expecting: [PGRES_COPY_IN])
        var chunk = [UInt8]()
        chunk.reserveCapacity(1 << 16)
        func flush() throws {
            guard !chunk.isEmpty else { return }
            let sent = chunk.withUnsafeBufferPointer { pointer in
                pointer.withMemoryRebound(to: CChar.self) { PQputCopyData(connection, $0.baseAddress, Int32($0.count)) }
            }
            if sent != 1 { throw connectionError(code: .copyFailed) }
            chunk.removeAll(keepingCapacity: true)
        }
        for row in rows {
            CopyTextFormat.encodeRow(row, into: &chunk)
            if chunk.count >= 1 << 16 { try flush() }
        }
        try flush()
        if PQputCopyEnd(connection, nil) != 1 { throw connectionError(code: .copyFailed) }
        var failure: Error?
        var loaded = 0
        while let result = PQgetResult(connection) {
            defer { PQclear(result) }
            if PQresultStatus(result) != PGRES_COMMAND_OK {
                if failure == nil { failure = resultError(result) }
            } else if let tuples = PQcmdTuples(result) {
                loaded = Int(String(cString: tuples)) ?? 0
            }
        }
        if let failure { throw failure }
        return loaded
    }
}
