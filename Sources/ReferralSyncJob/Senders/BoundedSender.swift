import Attentive

/// Requests to Attentive, at most `concurrency` in flight: the one send loop of every path that talks to Attentive
/// (v1 values, bulk submissions, bulk polls, drift reads, events).
///
/// The requests run in a task group that never throws and never cancels, so every request started is answered and
/// its answer settled: a stop request only keeps new requests from starting (the caller checks it), and those in
/// flight are waited for. They run on Swift's shared pool (`globalConcurrentExecutor`), not on the pipeline's own
/// thread, which the caller's blocking database calls occupy (``PipelineThread``). Answers are settled on the
/// caller's task, one at a time, so `settle` may write to PostgreSQL and the reports without a lock.
struct BoundedSender {
    /// The most requests in flight at once (`--concurrency`; at least 1).
    let concurrency: Int
    let stopSignal: StopSignal
    /// The client to shut down once the work is fed when a stop was requested, before the answers in flight are
    /// waited for, so no retry starts after a stop; `nil` lets retries run out on their own (the bulk polls).
    let shutsDown: AttentiveClient?

    init(concurrency: Int, stopSignal: StopSignal, shutsDown: AttentiveClient?) {
        self.concurrency = max(1, concurrency)
        self.stopSignal = stopSignal
        self.shutsDown = shutsDown
    }

    /// One request: runs on the shared pool and returns Attentive's answer.
    typealias Request<Answer> = @Sendable () async -> Answer

    /// Waits, settling answers, until fewer than `concurrency` requests are in flight, then starts the request
    /// `prepare` returns; `prepare` returns `nil` to start none (having recorded why), which keeps a check made
    /// after the wait (a batch recorded only when it can be sent) next to the request it guards.
    typealias Start<Answer> = (_ prepare: () -> Request<Answer>?) async -> Void

    /// Runs `feed`, which starts requests through the `start` it is given, then waits for every answer.
    /// - Parameters:
    ///   - answerType: What a request returns.
    ///   - feed: Reads the work and starts its requests; its result is returned.
    ///   - settle: Records one answer; called once for every request started, on the caller's task.
    /// - Returns: What `feed` returned.
    func run<Answer: Sendable, Fed>(
        of answerType: Answer.Type, _ feed: (_ start: Start<Answer>) async -> Fed, settle: (Answer) -> Void
    ) async -> Fed {
        // `start` settles answers while `feed` runs; the closures stay within this call.
        await withoutActuallyEscaping(settle) { settle in
            await withTaskGroup(of: Answer.self) { group in
                var inFlight = 0
                let fed = await feed { prepare in
                    if inFlight >= concurrency, let answer = await group.next() {
                        inFlight -= 1
                        settle(answer)
                    }
                    guard let request = prepare() else { return }
                    group.addTask(executorPreference: globalConcurrentExecutor, operation: request)
                    inFlight += 1
                }
                if stopSignal.mustStop { shutsDown?.beginShutdown() }
                while let answer = await group.next() { settle(answer) }
                return fed
            }
        }
    }
}
