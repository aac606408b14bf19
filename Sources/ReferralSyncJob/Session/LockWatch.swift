import Attentive
import Foundation
import Postgres

/// Watches that the session holding a run's lock is still there. An advisory lock lives as long as its session:
/// when that backend ends (`pg_terminate_backend`, a failover, a proxy or an idle-session timeout), the lock is
/// free and another run may take it while this one still sends. The watch asks, from a connection of its own and
/// a thread of its own (the lock's connection may be busy with the refresh, and libpq calls never run on the
/// cooperative pool), whether the lock's backend is still there, every ``interval``; when it is
/// not, or the question cannot be asked, it marks the run's ``StopSignal`` so the senders start nothing more.
final class LockWatch: @unchecked Sendable {
    /// How often the lock is checked: at Attentive's 150 requests a second, about fifteen requests could start
    /// between a loss and its discovery.
    static let interval: Duration = .milliseconds(100)

    private let condition = NSCondition()
    private var stopped = false
    private var finished = false

    /// Starts watching the lock held by `lockBackend` (its `pg_backend_pid()`), asking on `connection`, which the
    /// watch owns and closes.
    init(lockBackend: Int32, connection: PostgresConnection, stopSignal: StopSignal, logger: Logger) {
        let thread = Thread { [self] in
            self.watch(lockBackend, on: connection, stopSignal: stopSignal, logger: logger)
        }
        thread.name = "referral-sync lock watch"
        thread.start()
    }

    /// Ends the watch and waits for its thread to let go of its connection.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }

    private func watch(_ backend: Int32, on connection: PostgresConnection, stopSignal: StopSignal, logger: Logger) {
        defer {
            connection.close()
            condition.lock()
            finished = true
            condition.broadcast()
            condition.unlock()
        }
        let interval = Self.interval.inSeconds
        while true {
            condition.lock()
            if !stopped { _ = condition.wait(until: Date().addingTimeInterval(interval)) }
            let done = stopped
            condition.unlock()
            if done { return }
            let why: String?
            do {
                // A session-level advisory lock lives exactly as long as its backend: asking whether the backend
                // is there is enough, and costs one lookup (pg_locks would read the whole shared lock table, 20
                // times a second for every running command).
                let alive = try connection.query(
                    "SELECT EXISTS (SELECT 1 FROM pg_stat_get_activity($1::integer))", [String(backend)]
                ).first?.bool(0)
                why = alive == true ? nil : "its database session (backend \(backend)) ended"
            } catch {
                why = "the database cannot be asked whether it still holds it: \(error)"
            }
            if let why {
                stopSignal.loseLock(why)
                logger.error("the run lost its lock", [("why", why)])
                return
            }
        }
    }
}
