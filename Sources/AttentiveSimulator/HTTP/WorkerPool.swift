import Foundation

/// An elastic pool of threads, one per busy connection: a new connection goes to an idle thread when there is one,
/// otherwise a new thread is started. Threads idle for `idleSeconds` exit. This keeps thread-per-connection
/// semantics (a slow or hung connection never blocks another) without creating a thread for every connection
/// when clients reconnect often.
final class WorkerPool: @unchecked Sendable {
    private let condition = NSCondition()
    private var pending: [Int32] = []
    private var idle = 0
    private var stopped = false
    private let work: @Sendable (Int32) -> Void
    private let name: String
    private let stackSize: Int
    private let idleSeconds: TimeInterval

    init(name: String, stackSize: Int, idleSeconds: TimeInterval = 30, work: @escaping @Sendable (Int32) -> Void) {
        self.name = name
        self.stackSize = stackSize
        self.idleSeconds = idleSeconds
        self.work = work
    }

    /// Runs `work(connection)` on an idle or new thread.
    func submit(_ connection: Int32) {
        condition.lock()
        pending.append(connection)
        let needsThread = pending.count > idle
        if !needsThread { condition.signal() }
        condition.unlock()
        guard needsThread else { return }
        let thread = Thread { [self] in runWorker() }
        thread.name = name
        thread.stackSize = stackSize
        thread.start()
    }

    /// Lets idle threads exit; busy ones exit after their current connection.
    func shutdown() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    private func runWorker() {
        while let connection = nextConnection() {
            work(connection)
        }
    }

    private func nextConnection() -> Int32? {
        condition.lock()
        defer { condition.unlock() }
        while pending.isEmpty {
            if stopped { return nil }
            idle += 1
            let signaled = condition.wait(until: Date(timeIntervalSinceNow: idleSeconds))
            idle -= 1
            if !signaled, pending.isEmpty { return nil }
        }
        return pending.removeFirst()
    }
}
