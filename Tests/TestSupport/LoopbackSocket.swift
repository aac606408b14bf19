import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Raw TCP on 127.0.0.1 for tests that must see bytes rather than HTTP: what a server sends when its answer never
/// ends, or what a client sends to a port that is not what it expects (TLS to a plain listener).
public enum LoopbackSocket {
    /// Why a socket operation failed.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Connects to 127.0.0.1:`port`, sends `request`, and reads until the peer closes or `seconds` pass.
    /// - Returns: The bytes received and whether the peer closed the connection before the time was up.
    public static func exchange(port: UInt16, request: [UInt8], seconds: Double) throws -> (
        received: [UInt8], closedByPeer: Bool
    ) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed: errno \(errno)") }
        defer { close(fd) }
        var address = loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw Failure(description: "connect() failed: errno \(errno)") }
        var sent = 0
        while sent < request.count {
            let written = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw Failure(description: "send() failed: errno \(errno)") }
            sent += written
        }
        let (received, closed) = readUntilClosed(fd, seconds: seconds)
        return (received, closed)
    }

    /// ``exchange(port:request:seconds:)`` on a thread of its own, so awaiting it never holds a thread of the
    /// concurrency pool while it reads.
    public static func exchangeOnOwnThread(port: UInt16, request: [UInt8], seconds: Double) async throws -> (
        received: [UInt8], closedByPeer: Bool
    ) {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                do {
                    continuation.resume(returning: try exchange(port: port, request: request, seconds: seconds))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.start()
        }
    }

    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// Reads until the peer closes or `seconds` pass.
    static func readUntilClosed(_ fd: Int32, seconds: Double, limit: Int = 1 << 20) -> ([UInt8], Bool) {
        let deadline = Date().addingTimeInterval(seconds)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline, received.count < limit {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let remaining = Int32(max(1, min(250, deadline.timeIntervalSinceNow * 1000)))
            guard poll(&descriptor, 1, remaining) > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return (received, true) }
            received.append(contentsOf: buffer[0..<count])
        }
        return (received, false)
    }
}

/// A TCP listener on 127.0.0.1 that answers every connection with fixed bytes after reading what the client
/// sent first, and keeps those first bytes for inspection. It stops accepting after `lifetime` seconds at most.
public final class LoopbackListener: @unchecked Sendable {
    /// The bound port.
    public let port: UInt16
    private let fd: Int32
    private let reply: [UInt8]
    private let lock = NSLock()
    private var received: [[UInt8]] = []
    private var stopped = false
    private let finished = DispatchSemaphore(value: 0)

    /// Binds an ephemeral port and starts accepting on a background thread.
    public init(reply: [UInt8], lifetime: Double = 120) throws {
        self.reply = reply
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw LoopbackSocket.Failure(description: "socket() failed: errno \(errno)") }
        var address = LoopbackSocket.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(listener, 16) == 0 else {
            close(listener)
            throw LoopbackSocket.Failure(description: "bind/listen failed: errno \(errno)")
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

    /// The first bytes each connection sent, in order of arrival.
    public var firstBytes: [[UInt8]] { lock.withLock { received } }

    /// Stops accepting and closes the listener. Idempotent.
    public func stop() {
        let first = lock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        if first { _ = finished.wait(timeout: .now() + 5) }
    }

    deinit { stop() }

    private func acceptLoop(until deadline: Date) {
        defer {
            close(fd)
            finished.signal()
        }
        while Date() < deadline, !lock.withLock({ stopped }) {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 100) > 0 else { continue }
            let connection = accept(fd, nil, nil)
            guard connection >= 0 else { continue }
            let (bytes, _) = LoopbackSocket.readFirstBytes(connection)
            lock.withLock { received.append(bytes) }
            _ = reply.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            close(connection)
        }
    }
}

extension LoopbackSocket {
    /// What a client sends first: whatever arrives within a second of connecting.
    static func readFirstBytes(_ fd: Int32) -> ([UInt8], Bool) {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, 1000) > 0 else { return ([], false) }
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return (count > 0 ? Array(buffer[0..<count]) : [], count <= 0)
    }
}
