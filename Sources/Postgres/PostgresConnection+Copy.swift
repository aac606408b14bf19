import CLibPQ

extension PostgresConnection {
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
