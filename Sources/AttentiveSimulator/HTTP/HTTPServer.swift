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
    private let state = SharedState(State())
    private let acceptLoopExited = DispatchSemaphore(value: 0)
    /// Threads serving connections; created on first use, dropped when the accept loop ends.
    private let workerPool = SharedState<WorkerPool?>(nil)

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
                let response = ServerResponse.error(error.status, error.message)
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
}
