import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A TCP listener on 127.0.0.1 standing in for a server that is not what the client expects: it reads what each
/// connection sends first (kept for inspection), then answers in a fixed way. It stops accepting after `lifetime`
/// seconds at most.
public final class LoopbackListener: @unchecked Sendable {
    /// What the listener does once a connection has sent its first bytes.
    public enum Answer: Sendable {
        /// Sends these bytes and closes the connection.
        case reply([UInt8])
        /// Sends `head`, then one space every 100 ms until the listener stops: an answer that never ends, which no
        /// idle timeout catches (each connection on a thread of its own).
        case trickle(head: String)
    }

    /// The bound port.
    public let port: UInt16
    private let fd: Int32
    private let answer: Answer
    private let lock = NSLock()
    private var received: [[UInt8]] = []
    private var stopped = false
    private let finished = DispatchSemaphore(value: 0)

    /// Binds an ephemeral port and starts accepting on a background thread.
    public init(_ answer: Answer, lifetime: Double = 120) throws {
        self.answer = answer
        let listener = try LoopbackSocket.tcpSocket()
        var address = LoopbackSocket.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(listener, 16) == 0 else {
            let failure = LoopbackSocket.Failure("bind/listen")
            close(listener)
            throw failure
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        fd = listener
        port = UInt16(bigEndian: actual.sin_port)
        let deadline = Date().addingTimeInterval(lifetime)
        let thread = Thread { [self] in acceptLoop(until: deadline) }
        thread.start()
    }

    /// A listener that answers every connection with `reply` and closes it.
    public convenience init(reply: [UInt8], lifetime: Double = 120) throws {
        try self.init(.reply(reply), lifetime: lifetime)
    }

    /// `http://127.0.0.1:<port>`.
    public var baseURL: URL {
        URL(string: "http://127.0.0.1:\(port)") ?? URL(fileURLWithPath: "/")
    }

    /// The first bytes each connection sent, in order of arrival.
    public var firstBytes: [[UInt8]] { lock.withLock { received } }

    /// Stops accepting, closes the listener and ends trickling answers. Idempotent.
    public func stop() {
        let first = lock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        if first { _ = finished.wait(timeout: .now() + 5) }
    }

    deinit { stop() }

    private var isStopped: Bool { lock.withLock { stopped } }

    private func acceptLoop(until deadline: Date) {
        defer {
            close(fd)
            finished.signal()
        }
        while Date() < deadline, !isStopped {
            guard LoopbackSocket.waitReadable(fd, milliseconds: 100) else { continue }
            let connection = accept(fd, nil, nil)
            guard connection >= 0 else { continue }
            switch answer {
            case .reply(let reply):
                let bytes = LoopbackSocket.readFirstBytes(connection)
                lock.withLock { received.append(bytes) }
                _ = LoopbackSocket.sendAll(connection, reply)
                close(connection)
            case .trickle(let head):
                let thread = Thread { [self] in trickle(connection, head: head) }
                thread.start()
            }
        }
    }

    private func trickle(_ connection: Int32, head: String) {
        defer { close(connection) }
        let bytes = LoopbackSocket.readFirstBytes(connection)
        lock.withLock { received.append(bytes) }
        guard !bytes.isEmpty, LoopbackSocket.sendAll(connection, Array(head.utf8)) else { return }
        while !isStopped {
            guard LoopbackSocket.sendAll(connection, [UInt8(ascii: " ")]) else { return }
            usleep(100_000)
        }
    }
}
