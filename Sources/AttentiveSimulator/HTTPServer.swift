import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A blocking HTTP/1.1 server on 127.0.0.1: one accept thread plus one (pooled) thread per connection, keep-alive,
/// Content-Length and chunked request bodies, `Expect: 100-continue`. No pipelining beyond reading requests in order.
final class HTTPServer: @unchecked Sendable {
    /// Produces the outcome for one request. Called on the connection's thread; may block that connection only.
    typealias Handler = @Sendable (HTTPRequest) -> HTTPOutcome

    /// The port the listener is bound to.
    let port: UInt16

    private struct State {
        var stopped = false
        var connections = Set<Int32>()
    }

    private let listener: Int32
    private let handler: Handler
    private let state = Locked(State())
    private let acceptLoopExited = DispatchSemaphore(value: 0)
    /// Threads serving connections; created on first use, dropped when the accept loop ends.
    private let workerPool = Locked<WorkerPool?>(nil)

    private var workers: WorkerPool {
        workerPool.withLock { pool in
            if let pool { return pool }
            let created = WorkerPool(name: "attentive-simulator-connection", stackSize: HTTPServer.threadStackSize) {
                [self] connection in serve(connection)
            }
            pool = created
            return created
        }
    }

    private static let threadStackSize = 512 * 1024

    /// Binds the listener; call `start()` to begin accepting.
    init(port: UInt16, handler: @escaping Handler) throws(SimulatorError) {
        let bound = try Socket.listen(port: port)
        self.listener = bound.fd
        self.port = bound.port
        self.handler = handler
    }

    /// Starts the accept thread.
    func start() {
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "attentive-simulator-accept"
        thread.stackSize = HTTPServer.threadStackSize
        thread.start()
    }

    /// Stops accepting, closes the listener and shuts down every open connection. Idempotent.
    func stop() {
        let first = state.withLock { state -> Bool in
            guard !state.stopped else { return false }
            state.stopped = true
            Socket.shutdownBoth(listener)
            for connection in state.connections { Socket.shutdownBoth(connection) }
            return true
        }
        if first { _ = acceptLoopExited.wait(timeout: .now() + 5) }
    }

    /// Number of open connections.
    var openConnections: Int {
        state.withLock { $0.connections.count }
    }

    private var isStopped: Bool {
        state.withLock { $0.stopped }
    }

    private func acceptLoop() {
        defer {
            Socket.close(listener)
            // Dropping the pool also breaks the server → pool → handler → server cycle.
            workerPool.withLock { pool in
                pool?.shutdown()
                pool = nil
            }
            acceptLoopExited.signal()
        }
        while !isStopped {
            guard Socket.waitReadable(listener, milliseconds: 250) else { continue }
            guard let connection = Socket.accept(listener) else {
                if errno == EMFILE || errno == ENFILE { usleep(10_000) }
                continue
            }
            let registered = state.withLock { state -> Bool in
                guard !state.stopped else { return false }
                state.connections.insert(connection)
                return true
            }
            guard registered else {
                Socket.close(connection)
                break
            }
            workers.submit(connection)
        }
    }

    private func release(_ connection: Int32) {
        state.withLock { state in
            state.connections.remove(connection)
            Socket.close(connection)
        }
    }

    private func serve(_ connection: Int32) {
        defer { release(connection) }
        var reader = ConnectionReader(fd: connection)
        while true {
            let request: HTTPRequest
            switch reader.nextRequest() {
            case .closed:
                return
            case .failed(let error):
                let response = HTTPResponse.error(error.status, error.message)
                _ = Socket.writeAll(connection, response.serialized(keepAlive: false))
                return
            case .request(let parsed):
                request = parsed
            }
            switch handler(request) {
            case .respond(let response, let delay):
                if delay > 0 { Thread.sleep(forTimeInterval: Double(delay) / 1000) }
                let keepAlive = request.wantsKeepAlive && !isStopped
                guard Socket.writeAll(connection, response.serialized(keepAlive: keepAlive)), keepAlive else { return }
            case .hang(let seconds):
                hold(connection, seconds: seconds)
                return
            case .drop:
                return
            case .endless(let seconds):
                trickle(connection, seconds: seconds)
                return
            }
        }
    }

    /// Sends a 200 head and then one-byte chunks every 100 ms, never the last chunk, until `seconds` pass, the
    /// server stops or the peer closes the connection.
    private func trickle(_ connection: Int32, seconds: Int) {
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        guard Socket.writeAll(connection, Array(head.utf8)) else { return }
        let deadline = MonotonicClock.nanoseconds() + UInt64(max(0, seconds)) * 1_000_000_000
        while MonotonicClock.nanoseconds() < deadline, !isStopped {
            guard Socket.writeAll(connection, Array("1\r\n \r\n".utf8)) else { return }
            usleep(100_000)
        }
    }

    /// Keeps the connection open without answering until `seconds` pass or the peer closes it.
    private func hold(_ connection: Int32, seconds: Int) {
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
}

/// Reads successive requests from one connection.
struct ConnectionReader {
    enum Result {
        case request(HTTPRequest)
        case closed
        case failed(HTTPParseError)
    }

    let fd: Int32
    private var buffer: [UInt8] = []
    private var scratch = [UInt8](repeating: 0, count: 64 * 1024)

    init(fd: Int32) {
        self.fd = fd
        buffer.reserveCapacity(16 * 1024)
    }

    /// Waits for and reads the next complete request.
    mutating func nextRequest() -> Result {
        var searchFrom = 0
        var headEnd: Int
        while true {
            while buffer.count >= 2, buffer[0] == 13, buffer[1] == 10 { buffer.removeFirst(2) }
            if let end = HTTPParser.headEnd(in: buffer, searchingFrom: searchFrom) {
                headEnd = end
                break
            }
            if buffer.count > HTTPParser.maximumHeadSize {
                return .failed(HTTPParseError(status: 431, message: "request head too large"))
            }
            searchFrom = buffer.count
            guard fill() else { return .closed }
        }
        do {
            let head = try HTTPParser.parseHead(buffer[0..<(headEnd - 4)])
            let framing = try HTTPParser.framing(of: head)
            let body: [UInt8]
            let consumed: Int
            if framing != .none, head.header("expect")?.lowercased() == "100-continue" {
                _ = Socket.writeAll(fd, Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
            }
            switch framing {
            case .none:
                body = []
                consumed = headEnd
            case .contentLength(let length):
                while buffer.count < headEnd + length {
                    guard fill() else { return .closed }
                }
                body = Array(buffer[headEnd..<(headEnd + length)])
                consumed = headEnd + length
            case .chunked:
                while true {
                    if let decoded = try HTTPParser.decodeChunked(buffer[headEnd...]) {
                        body = decoded.body
                        consumed = headEnd + decoded.consumed
                        break
                    }
                    guard fill() else { return .closed }
                }
            }
            buffer.removeFirst(consumed)
            return .request(
                HTTPRequest(
                    method: head.method, target: head.target, version: head.version, headers: head.headers,
                    body: body))
        } catch {
            return .failed(error)
        }
    }

    /// Blocks for more bytes (the socket's receive timeout bounds idle and stalled connections).
    private mutating func fill() -> Bool {
        Socket.read(fd, into: &buffer, scratch: &scratch) > 0
    }
}
