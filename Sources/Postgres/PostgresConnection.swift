import CLibPQ
import Foundation

/// One connection to a PostgreSQL server through libpq.
///
/// A connection is used by one task at a time (libpq connections are not thread-safe); the job opens one
/// connection per concern (reading, writing the ledger, holding the run lock) rather than sharing one.
public final class PostgresConnection: @unchecked Sendable {
    private var handle: OpaquePointer?
    private let secrets: [String]

    /// Opens a connection to the server.
    /// - Parameters:
    ///   - conninfo: A libpq connection string (`host=… dbname=…`) or `postgresql://` URI; empty uses the
    ///     `PG*` environment variables alone.
    ///   - applicationName: Shown in `pg_stat_activity` unless the conninfo names one.
    ///   - connectTimeoutSeconds: How long to wait for the server unless the conninfo says otherwise.
    ///   - schema: When set, the connection's `search_path` is this one schema (a store of several in one
    ///     database): every table and function the job names is looked up there, and created there.
    /// - Throws: `PostgresError` with code `.invalidConnectionString` when libpq cannot parse `conninfo`,
    ///   `.authenticationFailed` when the server asked for a password and refused the connection, and
    ///   `.connectionFailed` when it cannot be reached. The message never contains the password.
    public init(
        conninfo: String, applicationName: String = "referral-sync", connectTimeoutSeconds: Int = 10,
        schema: String? = nil
    ) throws {
        secrets = Conninfo.secrets(in: conninfo)
        if !conninfo.isEmpty, let problem = Conninfo.parseProblem(conninfo) {
            throw PostgresError(code: .invalidConnectionString, message: problem).redacting(secrets)
        }
        // Defaults come first: with expand_dbname the conninfo given as dbname overrides them.
        let keywords = ["connect_timeout", "fallback_application_name", "client_encoding", "dbname"]
        let values = [String(connectTimeoutSeconds), applicationName, "UTF8", conninfo]
        let connection = withCStringArray(keywords) { keywordPointers in
            withCStringArray(values) { valuePointers in
                PQconnectdbParams(keywordPointers, valuePointers, 1)
            }
        }
        guard let connection else {
            throw PostgresError(code: .connectionFailed, message: "libpq could not allocate a connection")
        }
        if PQstatus(connection) != CONNECTION_OK {
            let message = String(cString: PQerrorMessage(connection))
            // libpq's own flags, not its message (which follows the server's lc_messages): the server asked for
            // a password and the connection still failed, so the credentials were refused (or none were given).
            let refused = PQconnectionNeedsPassword(connection) != 0 || PQconnectionUsedPassword(connection) != 0
            PQfinish(connection)
            throw PostgresError(
                code: refused ? .authenticationFailed : .connectionFailed, message: message.trimmingTrailingWhitespace()
            ).redacting(secrets)
        }
        // Server notices ("relation already exists, skipping") are not errors and must not clutter the
        // job's stderr, which schedulers capture: drop them.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        handle = connection
        if let schema { try use(schema: schema) }
    }

    /// Makes `schema` the connection's whole `search_path` (see `init`'s `schema`).
    public func use(schema: String) throws {
        try execute("SELECT pg_catalog.set_config('search_path', pg_catalog.quote_ident($1), false)", [schema])
    }

    deinit { close() }

    /// Closes the connection; later calls fail with `.connectionLost`. Safe to call twice.
    public func close() {
        if let handle { PQfinish(handle) }
        handle = nil
    }

    // MARK: - Statements

    /// Runs one or more SQL statements with no parameters (for migrations and session settings).
    /// - Throws: `PostgresError` when any statement fails; the whole string runs as one implicit transaction
    ///   unless it contains its own `BEGIN`/`COMMIT`.
    public func run(_ sql: String) throws {
        let connection = try liveHandle()
        let result = PQexec(connection, sql)
        defer { PQclear(result) }
        try check(result, expecting: [PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY])
    }

    /// Runs one parameterised statement and returns all its rows (for small results only).
    /// - Parameters:
    ///   - sql: One statement with `$1`, `$2`, … placeholders.
    ///   - parameters: Text values for the placeholders; `nil` is SQL NULL. Values are never spliced into SQL.
    /// - Returns: The rows, each column as text or `nil` for NULL.
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = []) throws -> [PostgresRow] {
        let connection = try liveHandle()
        let result = try execParams(connection, sql, parameters)
        defer { PQclear(result) }
        try check(result, expecting: [PGRES_COMMAND_OK, PGRES_TUPLES_OK])
        return rows(of: result)
    }

    /// Sends one statement without waiting for its result (libpq's asynchronous `PQsendQuery`), so the server
    /// works on it while the caller does something else. Collect the result with ``receiveRows()`` before
    /// sending anything else on this connection.
    func send(_ sql: String) throws {
        let connection = try liveHandle()
        guard PQsendQuery(connection, sql) == 1 else { throw connectionError(code: .connectionLost) }
    }

    /// Waits for the result of the statement sent by ``send(_:)`` and returns its rows.
    /// - Throws: `PostgresError` when the statement failed; the connection is ready for the next one either way.
    func receiveRows() throws -> [PostgresRow] {
        let connection = try liveHandle()
        var rows: [PostgresRow] = []
        var failure: Error?
        var sawResult = false
        while let result = PQgetResult(connection) {
            defer { PQclear(result) }
            sawResult = true
            let status = PQresultStatus(result)
            if status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK {
                if failure == nil { rows = self.rows(of: result) }
            } else if failure == nil {
                failure = resultError(result)
            }
        }
        if let failure { throw failure }
        if !sawResult { throw connectionError(code: .connectionLost) }
        return rows
    }

    /// Runs a parameterised statement and returns how many rows it affected.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [String?] = []) throws -> Int {
        let connection = try liveHandle()
        let result = try execParams(connection, sql, parameters)
        defer { PQclear(result) }
        try check(result, expecting: [PGRES_COMMAND_OK, PGRES_TUPLES_OK])
        guard let affected = PQcmdTuples(result) else { return 0 }
        return Int(String(cString: affected)) ?? 0
    }

    /// Runs a parameterised query and hands its rows to `body` one at a time as they arrive (libpq single-row
    /// mode), so memory does not grow with the result.
    /// - Throws: The first `PostgresError`, or whatever `body` throws (the rest of the result is drained).
    public func forEachRow(_ sql: String, _ parameters: [String?] = [], _ body: (PostgresRow) throws -> Void) throws {
        let connection = try liveHandle()
        let sent = try withParameterPointers(parameters) { pointers in
            PQsendQueryParams(connection, sql, Int32(parameters.count), nil, pointers, nil, nil, 0)
        }
        guard sent == 1 else { throw connectionError(code: .connectionLost) }
        PQsetSingleRowMode(connection)
        var failure: Error?
        // Every single-row result of one query has the same columns: their names are read once.
        var columns: PostgresColumns?
        while let result = PQgetResult(connection) {
            defer { PQclear(result) }
            if failure != nil { continue }
            let status = PQresultStatus(result)
            if status == PGRES_SINGLE_TUPLE {
                let names = columns ?? PostgresColumns(result: result)
                columns = names
                do { try body(PostgresRow(result: result, row: 0, columns: names)) } catch { failure = error }
            } else if status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK {
                failure = resultError(result)
            }
        }
        if let failure { throw failure }
    }

    /// Runs `body` inside a transaction: committed when it returns, rolled back when it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try run("BEGIN")
        do {
            let value = try body()
            try run("COMMIT")
            return value
        } catch {
            try? run("ROLLBACK")
            throw error
        }
    }

    // MARK: - Internals

    func liveHandle() throws -> OpaquePointer {
        guard let handle else { throw PostgresError(code: .connectionLost, message: "the connection is closed") }
        return handle
    }

    private func execParams(_ connection: OpaquePointer, _ sql: String, _ parameters: [String?]) throws
        -> OpaquePointer?
    {
        try withParameterPointers(parameters) { pointers in
            PQexecParams(connection, sql, Int32(parameters.count), nil, pointers, nil, nil, 0)
        }
    }

    func check(_ result: OpaquePointer?, expecting statuses: [ExecStatusType]) throws {
        guard let result else { throw connectionError(code: .connectionLost) }
        let status = PQresultStatus(result)
        if statuses.contains(status) { return }
        throw resultError(result)
    }

    func resultError(_ result: OpaquePointer) -> PostgresError {
        func field(_ code: Int32) -> String? {
            guard let value = PQresultErrorField(result, code) else { return nil }
            return String(cString: value)
        }
        let sqlState = field(Int32(UInt8(ascii: "C")))
        let primary = field(Int32(UInt8(ascii: "M"))) ?? String(cString: PQresultErrorMessage(result))
        let lost = handle.map { PQstatus($0) != CONNECTION_OK } ?? true
        let code: PostgresError.Code =
            lost
            ? .connectionLost : (PQresultStatus(result) == PGRES_FATAL_ERROR ? .statementFailed : .unexpectedResponse)
        return PostgresError(
            code: code,
            message: primary.isEmpty ? "the server reported an error" : primary.trimmingTrailingWhitespace(),
            sqlState: sqlState,
            detail: field(Int32(UInt8(ascii: "D"))),
            hint: field(Int32(UInt8(ascii: "H")))
        ).redacting(secrets)
    }

    func connectionError(code: PostgresError.Code) -> PostgresError {
        let message = handle.map { String(cString: PQerrorMessage($0)) } ?? "the connection is closed"
        return PostgresError(code: code, message: message.isEmpty ? "the connection was lost" : message)
            .redacting(secrets)
    }

    private func rows(of result: OpaquePointer?) -> [PostgresRow] {
        guard let result else { return [] }
        let columns = PostgresColumns(result: result)
        return (0..<Int(PQntuples(result))).map { PostgresRow(result: result, row: Int32($0), columns: columns) }
    }

}
