import Foundation

/// A thread of its own for a command's pipeline, as a task executor: the stages' blocking libpq calls (cursor
/// fetches, ledger and bulk-batch writes) run here, never on Swift's cooperative pool, which has only as many
/// threads as cores (two on a small machine) and which the requests to Attentive need. Requests are started with
/// `executorPreference: globalConcurrentExecutor`, so they run on the pool and never wait behind a fetch.
///
/// Jobs run in the order they are enqueued. The thread sleeps on a condition variable while there is nothing
/// to run, and ends when ``run(_:)`` returns.
final class PipelineThread: TaskExecutor, @unchecked Sendable {
    // @unchecked: `jobs` and `stopped` are only touched with `condition` locked.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopped = false

    private init() {
        let thread = Thread { [self] in self.runJobs() }
        thread.name = "referral-sync pipeline"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Runs `body` with this thread as its task executor preference: `body` and the child tasks it starts
    /// without a preference of their own run on the pipeline thread.
    static func run<T: Sendable>(_ body: @Sendable () async -> T) async -> T {
        let executor = PipelineThread()
        defer { executor.stop() }
        return await withTaskExecutorPreference(executor) { await body() }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Lets the thread end once the jobs enqueued so far have run.
    private func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func runJobs() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopped { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            condition.unlock()
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
        }
    }
}
