import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A loopback HTTP/1.1 keep-alive server that answers `200 {}` to every request except those its `drops`
/// rule picks: those it reads in full and then abandons the way a proxy or load balancer does.
public final class DroppingServer: @unchecked Sendable {
    /// How a picked request's connection is abandoned after the request was read.
    public enum Drop: String, Sendable, CaseIterable {
        /// `shutdown(SHUT_RDWR)`, then close a little later.
        case shutdown
        /// A plain `close()`: a FIN.
        case close
        /// `SO_LINGER` 0, then `close()`: an RST.
        case reset
        /// Never answers and keeps the connection open: half-open as far as the client can tell.
        case silent
    }

    public struct StartFailure: Error, CustomStringConvertible {
        public var call: String
        public var description: String { "DroppingServer: \(call) failed (errno \(errno))" }
    }

    /// The bound port.
    public let port: UInt16
    private let listener: Int32
    private let drop: Drop
    private let picks: @Sendable (Int) -> Bool
    private let lock = NSLock()
    private var stopped = false
    private var requestCount = 0
    private var connectionCount = 0
    private var openConnections: Set<Int32> = []
    private var silentEnds: [ContinuousClock.Instant] = []
    private var acceptErrors: [Int32] = []

    /// - Parameters:
    ///   - drop: what happens to a picked request's connection.
    ///   - picks: given the request's number (1-based, across connections, in order of arrival), whether to drop it.
    public init(drop: Drop, picks: @escaping @Sendable (Int) -> Bool) throws {
        self.drop = drop
        self.picks = picks
        // Close-on-exec: the suite spawns processes while tests run, and a child holding a copy of a connection
        // would keep close() from sending its FIN or RST until that child exits.
        #if os(Linux)
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        #else
            let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw StartFailure(call: "socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(descriptor, 128) == 0 else {
            close(descriptor)
            throw StartFailure(call: "bind/listen")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else {
            close(descriptor)
            throw StartFailure(call: "getsockname")
        }
        listener = descriptor
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// `http://127.0.0.1:port`.
    public var baseURL: URL {
        URL(string: "http://127.0.0.1:\(port)") ?? URL(fileURLWithPath: "/")
    }

    /// Requests read so far, dropped ones included.
    public var requests: Int { lock.withLock { requestCount } }

    /// What failed `accept` calls said (errno), for a test's failure message.
    public var acceptFailures: [Int32] { lock.withLock { acceptErrors } }

    /// Connections accepted so far.
    public var connections: Int { lock.withLock { connectionCount } }

    /// When the client closed each silent connection, as the server thread saw it (not the test's task, which
    /// may wait for a thread of the concurrency pool).
    public var silentConnectionsClosedByClient: [ContinuousClock.Instant] { lock.withLock { silentEnds } }

    private var isStopped: Bool { lock.withLock { stopped } }

    /// Stops accepting and wakes every connection thread.
    public func stop() {
        lock.withLock {
            stopped = true
            for connection in openConnections { shutdown(connection, Int32(SHUT_RDWR)) }
        }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while !isStopped {
            let connection = accept(listener, nil, nil)
            if connection >= 0 { _ = fcntl(connection, F_SETFD, FD_CLOEXEC) }
            guard connection >= 0 else {
                // EINTR, ECONNABORTED, EMFILE under the whole suite's load: keep accepting until stopped.
                if isStopped { return }
                lock.withLock { acceptErrors.append(errno) }
                usleep(1_000)
                continue
            }
            lock.withLock {
                connectionCount += 1
                openConnections.insert(connection)
            }
            let thread = Thread { [self] in serve(connection) }
            thread.start()
        }
    }

    private func serve(_ connection: Int32) {
        // Closed under the lock and forgotten at once, so stop() can never shut down a reused descriptor number.
        defer {
            lock.withLock {
                _ = openConnections.remove(connection)
                close(connection)
            }
        }
        var pending: [UInt8] = []
        while !isStopped, readRequest(connection, &pending) {
            let number = lock.withLock { () -> Int in
                requestCount += 1
                return requestCount
            }
            guard picks(number) else {
                let answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
                guard write(connection, Array(answer.utf8)) else { return }
                continue
            }
            switch drop {
            case .shutdown:
                shutdown(connection, Int32(SHUT_RDWR))
                usleep(50_000)
            case .close:
                break
            case .reset:
                var option = linger(l_onoff: 1, l_linger: 0)
                setsockopt(connection, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
            case .silent:
                var scratch = [UInt8](repeating: 0, count: 4096)
                while !isStopped, recv(connection, &scratch, scratch.count, 0) > 0 {}
                if !isStopped { lock.withLock { silentEnds.append(ContinuousClock.now) } }
            }
            return
        }
    }

    /// Reads one whole request (head, then a `Content-Length` body) into `pending`, leaving any bytes after it.
    private func readRequest(_ connection: Int32, _ pending: inout [UInt8]) -> Bool {
        var scratch = [UInt8](repeating: 0, count: 16 * 1024)
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        while true {
            if let end = pending.firstRange(of: separator)?.upperBound {
                let head = String(decoding: pending[..<end], as: UTF8.self).lowercased()
                var bodyLength = 0
                for line in head.split(separator: "\r\n") where line.hasPrefix("content-length:") {
                    bodyLength = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
                }
                if pending.count >= end + bodyLength {
                    pending.removeFirst(end + bodyLength)
                    return true
                }
            }
            let count = recv(connection, &scratch, scratch.count, 0)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return false }
            pending.append(contentsOf: scratch[0..<count])
        }
    }

    private func write(_ connection: Int32, _ bytes: [UInt8]) -> Bool {
        #if os(Linux)
            let flags = Int32(MSG_NOSIGNAL)
        #else
            let flags: Int32 = 0
        #endif
        return bytes.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, flags) } == bytes.count
    }
}
