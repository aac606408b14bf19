#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Thin wrappers over POSIX socket calls used by the server.
enum Socket {
    /// Creates a TCP socket listening on 127.0.0.1:`port` (0 = ephemeral) and returns it with the bound port.
    static func listen(port: UInt16, backlog: Int32 = 1024) throws(SimulatorError) -> (fd: Int32, port: UInt16) {
        #if canImport(Darwin)
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #else
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #endif
        guard fd >= 0 else { throw .socketFailure(call: "socket", errno: errno) }
        var reuse: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))

        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            let code = errno
            close(fd)
            if code == EADDRINUSE { throw .portInUse(port) }
            throw .socketFailure(call: "bind", errno: code)
        }
        #if canImport(Darwin)
            let listening = Darwin.listen(fd, backlog)
        #else
            let listening = Glibc.listen(fd, backlog)
        #endif
        guard listening == 0 else {
            let code = errno
            close(fd)
            throw .socketFailure(call: "listen", errno: code)
        }
        var boundAddress = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &boundAddress) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else {
            let code = errno
            close(fd)
            throw .socketFailure(call: "getsockname", errno: code)
        }
        return (fd, UInt16(bigEndian: boundAddress.sin_port))
    }

    /// How long a blocking read on an accepted connection waits before giving up (idle keep-alive or stalled
    /// request); longer than libcurl's 118-second connection-pool age so clients never reuse a closed connection.
    static let receiveTimeoutSeconds = 180

    /// Accepts one pending connection, or returns nil (no connection ready, or the listener was shut down).
    /// The connection gets TCP_NODELAY and a receive timeout of `receiveTimeoutSeconds`.
    static func accept(_ listener: Int32) -> Int32? {
        #if canImport(Darwin)
            let fd = Darwin.accept(listener, nil, nil)
        #else
            let fd = Glibc.accept(listener, nil, nil)
        #endif
        guard fd >= 0 else { return nil }
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval()
        timeout.tv_sec = time_t(receiveTimeoutSeconds)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        #if canImport(Darwin)
            _ = setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
        return fd
    }

    /// Waits until `fd` is readable (or closed/shut down) for at most `milliseconds`. Returns true when readable.
    static func waitReadable(_ fd: Int32, milliseconds: Int32) -> Bool {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let result = poll(&descriptor, 1, milliseconds)
            if result < 0, errno == EINTR { continue }
            return result > 0
        }
    }

    /// Blocks until data arrives and appends it to `buffer`. Returns the count read; 0 means end of stream,
    /// error, shutdown or receive timeout.
    static func read(_ fd: Int32, into buffer: inout [UInt8], scratch: inout [UInt8]) -> Int {
        while true {
            let count = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return 0 }
            buffer.append(contentsOf: scratch[0..<count])
            return count
        }
    }

    /// Writes all of `bytes`; returns false if the peer is gone.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                #if canImport(Darwin)
                    return send(fd, base + offset, raw.count - offset, 0)
                #else
                    return send(fd, base + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                #endif
            }
            if written < 0, errno == EINTR || errno == EAGAIN { continue }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }

    /// Shuts down both directions, waking any thread blocked on the socket. Does not release the descriptor.
    static func shutdownBoth(_ fd: Int32) {
        #if canImport(Darwin)
            _ = shutdown(fd, SHUT_RDWR)
        #else
            _ = shutdown(fd, Int32(SHUT_RDWR))
        #endif
    }

    /// Makes the next `close` reset the connection (an RST instead of a FIN): `SO_LINGER` on with a 0 s timeout.
    static func lingerZero(_ fd: Int32) {
        var option = linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
    }

    /// Releases the descriptor.
    static func close(_ fd: Int32) {
        #if canImport(Darwin)
            _ = Darwin.close(fd)
        #else
            _ = Glibc.close(fd)
        #endif
    }
}
