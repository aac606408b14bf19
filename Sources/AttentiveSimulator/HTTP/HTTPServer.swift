import Foundation
import Synchronization

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
        /// Half-open connections nobody serves, with the monotonic time at which they are closed.
        var parked: [Int32: UInt64] = [:]
    }

    private let listener: Int32
    private let handler: Handler
    /// Called when the server closes a kept-alive connection at its idle timeout.
    let idleClosed: @Sendable () -> Void
    private let state = Mutex(State())
    private let acceptLoopExited = DispatchSemaphore(value: 0)
    /// Threads serving connections; created on first use, dropped when the accept loop ends.
    private let workerPool = Mutex<WorkerPool?>(nil)

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
    init(port: UInt16, idleClosed: @escaping @Sendable () -> Void = {}, handler: @escaping Handler)
        throws(SimulatorError)
    {
        let bound = try Socket.listen(port: port)
        self.listener = bound.fd
        self.port = bound.port
        self.handler = handler
        self.idleClosed = idleClosed
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

    var isStopped: Bool {
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
            closeParked(all: true)
            acceptLoopExited.signal()
        }
        while !isStopped {
            closeParked(all: false)
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

    /// Leaves a connection open, unread and unanswered, until `seconds` pass or the server stops.
    private func park(_ connection: Int32, seconds: Int) {
        let deadline = MonotonicClock.nanoseconds() + UInt64(max(0, seconds)) * 1_000_000_000
        state.withLock { $0.parked[connection] = deadline }
    }

    /// Closes the parked connections whose time has come (every one with `all`).
    private func closeParked(all: Bool) {
        let now = MonotonicClock.nanoseconds()
        let due = state.withLock { state in state.parked.filter { all || $0.value <= now }.map(\.key) }
        for connection in due {
            state.withLock { _ = $0.parked.removeValue(forKey: connection) }
            release(connection)
        }
    }

    /// What becomes of a connection once its thread is done with it.
    private enum Ending {
        case close
        case park(seconds: Int)
    }

    private func serve(_ connection: Int32) {
        switch converse(connection) {
        case .close: release(connection)
        case .park(let seconds): park(connection, seconds: seconds)
        }
    }

    /// Reads requests and carries out their outcomes until the connection is to end.
    private func converse(_ connection: Int32) -> Ending {
        var reader = ConnectionReader(fd: connection)
        while true {
            let request: HTTPRequest
            switch reader.nextRequest() {
            case .closed:
                return .close
            case .failed(let error):
                let response = ServerResponse.error(error.status, error.message)
                _ = Socket.writeAll(connection, response.serialized(keepAlive: false))
                return .close
            case .request(let parsed):
                request = parsed
            }
            switch handler(request) {
            case .respond(let response, let delay, let idleCloseSeconds):
                if delay > 0 { Thread.sleep(forTimeInterval: Double(delay) / 1000) }
                let keepAlive = request.wantsKeepAlive && !isStopped
                guard Socket.writeAll(connection, response.serialized(keepAlive: keepAlive)), keepAlive else {
                    return .close
                }
                if let idleCloseSeconds, !reader.hasBufferedBytes,
                    closeIfIdle(connection, seconds: idleCloseSeconds)
                {
                    return .close
                }
            case .hang(let seconds):
                hold(connection, seconds: seconds)
                return .close
            case .drop:
                return .close
            case .shutdown:
                Socket.shutdownBoth(connection)
                return .close
            case .reset:
                Socket.lingerZero(connection)
                return .close
            case .halfOpen(let seconds):
                return .park(seconds: seconds)
            case .endless(let seconds):
                trickle(connection, seconds: seconds)
                return .close
            }
        }
    }
}
