/// Session-level advisory locks, for "one run at a time" across machines that share a database.
extension PostgresConnection {
    /// Tries to take the session-level advisory lock `key` without waiting.
    /// - Parameter shared: Take it in shared mode (many shared holders, no exclusive one).
    /// - Returns: `true` when this session now holds it. It is held until the connection closes, so a crashed
    ///   holder frees it by disconnecting.
    public func tryAdvisoryLock(_ key: Int64, shared: Bool = false) throws -> Bool {
        let function = shared ? "pg_try_advisory_lock_shared" : "pg_try_advisory_lock"
        return try query("SELECT \(function)($1::bigint)", [String(key)]).first?.bool(0) ?? false
    }

    /// Takes the session-level advisory lock `key`, waiting as long as another session holds it.
    public func advisoryLock(_ key: Int64) throws {
        _ = try query("SELECT pg_advisory_lock($1::bigint)", [String(key)])
    }

    /// Releases the session-level advisory lock `key` taken by ``advisoryLock(_:)``.
    public func advisoryUnlock(_ key: Int64) throws {
        _ = try query("SELECT pg_advisory_unlock($1::bigint)", [String(key)])
    }

    /// Releases every session-level advisory lock of this session and closes the connection. Unlocking first
    /// makes the release immediate: a closed connection's locks are freed only when the server has ended the
    /// session, a moment later, so a run started right after this one could otherwise find them still held.
    public func releaseAdvisoryLocksAndClose() {
        _ = try? query("SELECT pg_advisory_unlock_all()")
        close()
    }
}
