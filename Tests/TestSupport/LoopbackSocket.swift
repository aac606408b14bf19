import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Raw TCP on 127.0.0.1 for tests that must see bytes rather than HTTP: what a server sends when its answer never
/// ends, how it ends a connection (a FIN, a reset or not at all), or what a client sends to a port that is not what
/// it expects (TLS to a plain listener).
public enum LoopbackSocket {
    /// Why a socket operation failed.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String

        init(_ call: String, errno code: Int32 = errno) {
            description = "\(call) failed: errno \(code)"
        }
    }

    /// How a read ended.
    public enum Ending: Sendable, Equatable {
        /// The peer closed or shut down its side: `recv` returned 0 (a FIN).
        case closedByPeer
        /// The peer reset the connection: `recv` failed with `ECONNRESET` (an RST).
        case reset
        /// Neither happened before the time was up: the connection is still open.
        case stillOpen
    }

    /// Connects to 127.0.0.1:`port`, sends `request`, and reads until the peer closes or `seconds` pass.
    /// - Returns: The bytes received and whether the peer closed the connection (or reset it) before the time was up.
    public static func exchange(port: UInt16, request: [UInt8], seconds: Double) throws -> (
        received: [UInt8], closedByPeer: Bool
    ) {
        let connection = try LoopbackConnection(port: port)
        try connection.send(request)
        let (received, ending) = connection.receive(seconds: seconds)
        return (received, ending != .stillOpen)
    }

    /// ``exchange(port:request:seconds:)`` of a text, answered as text (tests of the HTTP wire format).
    public static func exchange(port: UInt16, _ request: String, seconds: Double = 10) throws -> String {
        String(
            decoding: try exchange(port: port, request: Array(request.utf8), seconds: seconds).received, as: UTF8.self)
    }

    /// ``exchange(port:request:seconds:)`` on a thread of its own, so awaiting it never holds a thread of the
    /// concurrency pool while it reads.
    public static func exchangeOnOwnThread(port: UInt16, request: [UInt8], seconds: Double) async throws -> (
        received: [UInt8], closedByPeer: Bool
    ) {
        try await onOwnThread { try exchange(port: port, request: request, seconds: seconds) }
    }

    /// Runs blocking socket work on a thread of its own and awaits its result.
    public static func onOwnThread<Result: Sendable>(_ work: @escaping @Sendable () throws -> Result) async throws
        -> Result
    {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                do {
                    continuation.resume(returning: try work())
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

    static func tcpSocket() throws -> Int32 {
        #if canImport(Darwin)
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #else
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #endif
        guard fd >= 0 else { throw Failure("socket()") }
        return fd
    }

    static func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        #if canImport(Darwin)
            let flags: Int32 = 0
        #else
            let flags = Int32(MSG_NOSIGNAL)
        #endif
        var sent = 0
        while sent < bytes.count {
            let written = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, flags) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { return false }
            sent += written
        }
        return true
    }

    /// Whether `fd` becomes readable (data, a FIN or a reset) within `milliseconds`.
    static func waitReadable(_ fd: Int32, milliseconds: Int32) -> Bool {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, milliseconds) > 0
    }

    /// Reads until the peer closes or resets the connection or `seconds` pass.
    static func receive(_ fd: Int32, seconds: Double, limit: Int = 1 << 20) -> ([UInt8], Ending) {
        let deadline = Date().addingTimeInterval(seconds)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline, received.count < limit {
            let remaining = Int32(max(1, min(250, deadline.timeIntervalSinceNow * 1000)))
            guard waitReadable(fd, milliseconds: remaining) else { continue }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0, errno == EINTR { continue }
            if count < 0 { return (received, errno == ECONNRESET ? .reset : .closedByPeer) }
            if count == 0 { return (received, .closedByPeer) }
            received.append(contentsOf: buffer[0..<count])
        }
        return (received, .stillOpen)
    }

    /// What a client sends first: whatever arrives within a second of connecting.
    static func readFirstBytes(_ fd: Int32) -> [UInt8] {
        guard waitReadable(fd, milliseconds: 1000) else { return [] }
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return count > 0 ? Array(buffer[0..<count]) : []
    }
}

/// One client connection to 127.0.0.1, for tests that send several requests on it or watch how it ends.
/// Closed when released.
public final class LoopbackConnection: @unchecked Sendable {
    private let fd: Int32

    /// Connects to 127.0.0.1:`port`.
    public init(port: UInt16) throws {
        fd = try LoopbackSocket.tcpSocket()
        var address = LoopbackSocket.loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let failure = LoopbackSocket.Failure("connect()")
            close(fd)
            throw failure
        }
    }

    deinit { close(fd) }

    /// Sends every byte.
    public func send(_ bytes: [UInt8]) throws {
        guard LoopbackSocket.sendAll(fd, bytes) else { throw LoopbackSocket.Failure("send()") }
    }

    /// Sends a text as UTF-8.
    public func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// Shuts down the sending side (a FIN to the peer) and keeps reading possible: a client that has gone away as
    /// far as the server can tell.
    public func finishSending() {
        #if canImport(Darwin)
            _ = shutdown(fd, SHUT_WR)
        #else
            _ = shutdown(fd, Int32(SHUT_WR))
        #endif
    }

    /// Reads until the peer closes or resets the connection, or `seconds` pass.
    public func receive(seconds: Double) -> (received: [UInt8], ending: LoopbackSocket.Ending) {
        LoopbackSocket.receive(fd, seconds: seconds)
    }

    /// Reads until `marker` has arrived (an answer's end), the peer closes, or `seconds` pass.
    public func receive(upTo marker: String, seconds: Double) -> String {
        let deadline = Date().addingTimeInterval(seconds)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline, !String(decoding: received, as: UTF8.self).contains(marker) {
            guard LoopbackSocket.waitReadable(fd, milliseconds: 50) else { continue }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            received.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: received, as: UTF8.self)
    }
}
