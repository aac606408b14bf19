import Foundation

/// Blocking work (libpq calls) on a thread of its own, never on Swift's cooperative pool, whose threads the
/// requests to Attentive need: the passes that read the run's snapshot beside the attribute query
/// (``RejectedRowsPass``, ``AttributesFilePass``).
enum BlockingWork {
    /// Runs `work` on a new thread and gives its result to the returned task.
    static func onThread<T: Sendable>(_ work: @escaping @Sendable () -> T) -> Task<T, Never> {
        Task.detached {
            await withCheckedContinuation { continuation in
                let thread = Thread { continuation.resume(returning: work()) }
                thread.stackSize = 1 << 20
                thread.start()
            }
        }
    }

    /// Runs `work` and writes the wall seconds it took into its result's `seconds`.
    static func timed<T>(_ seconds: WritableKeyPath<T, Double>, _ work: () throws -> T) -> Result<T, any Error> {
        timed(work).map { value, elapsed in
            var value = value
            value[keyPath: seconds] = elapsed
            return value
        }
    }

    static func timed<T>(_ work: () throws -> T) -> Result<(T, Double), any Error> {
        let clock = ContinuousClock()
        let started = clock.now
        do {
            let value = try work()
            let elapsed = clock.now - started
            return .success(
                (value, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
        } catch {
            return .failure(error)
        }
    }
}
