import CLibPQ
import Foundation

/// A notification sent with `NOTIFY` (or `pg_notify`) on a channel this connection listens to.
public struct PostgresNotification: Sendable, Equatable {
    public var channel: String
    public var payload: String
    /// The backend that sent it.
    public var senderBackend: Int32
}

/// `LISTEN` and waiting for notifications: the doorbell a long-running process waits on instead of polling.
extension PostgresConnection {
    /// Starts listening on `channel` (an identifier, quoted here).
    public func listen(_ channel: String) throws {
        try run("LISTEN \"" + channel.replacingOccurrences(of: "\"", with: "\"\"") + "\"")
    }

    /// Waits until a notification arrives or `timeout` passes, and returns every notification received by then
    /// (empty when none came). Call it only on a connection with no statement in progress.
    /// - Throws: `PostgresError` `.connectionLost` when the connection drops while waiting (a terminated backend, a
    ///   restarted server): the socket reports the end, so a drop is noticed at once, not at the timeout.
    public func notifications(waitingUpTo timeout: Duration) throws -> [PostgresNotification] {
        let connection = try liveHandle()
        var received = try drainNotifications(connection)
        if !received.isEmpty { return received }
        let socket = PQsocket(connection)
        guard socket >= 0 else { throw connectionError(code: .connectionLost) }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(
            clamping: max(
                0,
                timeout.components.seconds * 1000 + timeout.components.attoseconds
                    / 1_000_000_000_000_000))
        let ready = poll(&descriptor, 1, milliseconds)
        if ready < 0 && errno != EINTR { throw connectionError(code: .connectionLost) }
        if ready > 0 { received = try drainNotifications(connection) }
        return received
    }

    /// Reads what the server sent and returns the notifications among it.
    private func drainNotifications(_ connection: OpaquePointer) throws -> [PostgresNotification] {
        guard PQconsumeInput(connection) == 1, PQstatus(connection) == CONNECTION_OK else {
            throw connectionError(code: .connectionLost)
        }
        var received: [PostgresNotification] = []
        while let notice = PQnotifies(connection) {
            received.append(
                PostgresNotification(
                    channel: String(cString: notice.pointee.relname), payload: String(cString: notice.pointee.extra),
                    senderBackend: notice.pointee.be_pid))
            PQfreemem(notice)
        }
        return received
    }
}
