import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How the server carries out the faults that act on the connection rather than on the answer's content.
extension HTTPServer {
    /// Sends a 200 head and then one-byte chunks every 100 ms, never the last chunk, until `seconds` pass, the
    /// server stops or the peer closes the connection.
    func trickle(_ connection: Int32, seconds: Int) {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        guard Socket.writeAll(connection, Array(head.utf8)) else { return }
        let deadline = MonotonicClock.nanoseconds() + UInt64(max(0, seconds)) * 1_000_000_000
        while MonotonicClock.nanoseconds() < deadline, !isStopped {
            guard Socket.writeAll(connection, Array("1\r\n \r\n".utf8)) else { return }
            usleep(100_000)
        }
    }

    /// Keeps the connection open without answering until `seconds` pass or the peer closes it.
    func hold(_ connection: Int32, seconds: Int) {
        let deadline = MonotonicClock.nanoseconds() + UInt64(max(0, seconds)) * 1_000_000_000
        var discard: [UInt8] = []
        var scratch = [UInt8](repeating: 0, count: 4096)
        while true {
            let now = MonotonicClock.nanoseconds()
            guard now < deadline, !isStopped else { return }
            let remaining = Int32(min((deadline - now) / 1_000_000 + 1, 1000))
            if Socket.waitReadable(connection, milliseconds: remaining) {
                guard Socket.read(connection, into: &discard, scratch: &scratch) > 0 else { return }
                discard.removeAll(keepingCapacity: true)
            }
        }
    }

    /// Waits up to `seconds` for the next request to start; when none does (and the server is not stopping),
    /// counts an idle close and returns true so the caller closes the connection, as a load balancer's idle timeout
    /// does. A client that closes meanwhile, or a stopping server, makes it return false: the reader then sees the
    /// end itself.
    func closeIfIdle(_ connection: Int32, seconds: Double) -> Bool {
        let milliseconds = Int32(min(max(0, seconds) * 1000, Double(Int32.max)))
        guard !Socket.waitReadable(connection, milliseconds: milliseconds), !isStopped else { return false }
        idleClosed()
        return true
    }
}
