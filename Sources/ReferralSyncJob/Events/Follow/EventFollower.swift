import Attentive
import Foundation
import Postgres
import ReferralModel
import ReferralStore

extension SyncRun {
    /// `referral-sync events --follow`: a process that never ends by itself. It waits for the events lock (a second
    /// follower is a standby), then, holding it, runs a pass (the `events` discovery and sending, the same ledger,
    /// ids and rules) whenever the input tables' triggers notify it, and at least every `--sweep-seconds`; a report
    /// folder and a run-history row per `--report-every`. It ends on SIGTERM/SIGINT (143/130, the period's folder
    /// written) or on a fault no wait can fix (a refused key 77, a configuration 78).
    public func followEvents(_ options: EventsOptions) async -> RunResult {
        let context = self.context
        return await PipelineThread.run { await EventFollower(context: context, options: options).run() }
    }
}

/// The follower's loop of terms: connect, wait for the lock (standby), follow while it is held, and after a lost
/// lock or a lost database connection start again, with backoff.
struct EventFollower {
    let context: JobContext
    let options: EventsOptions
    var follow: FollowOptions { options.follow ?? FollowOptions() }

    /// How often a standby asks for the lock: the longest a hand-over waits once the active follower's session ends.
    static let standbyInterval: Duration = .seconds(1)

    /// Statuses after which a follower goes on: done, done with events to look at, Attentive unreachable (sent
    /// again at the next pass), the lock lost (taken again, or waited for).
    static let statusesToGoOn: Set<ExitStatus> = [.success, .needsAttention, .unavailable, .locked]

    func run() async -> RunResult {
        let log = FollowerLog(logger: context.logger)
        let configuration = context.configuration
        context.labelLogs(store: configuration.schema)
        var backoff = ReconnectBackoff()
        var last: RunResult?
        var backfill = options.backfill
        while context.stopSignal.stopRequest == nil {
            let term = StopSignal(parent: context.stopSignal)
            do {
                let result = try await serve(term, log: log, backoff: &backoff, backfill: &backfill)
                last = result ?? last
                if let result, !Self.statusesToGoOn.contains(result.status) { return result }
                if let loss = term.lockLoss {
                    log.enter(
                        .term, "reconnecting", "the follower lost the events lock: taking it again",
                        [
                            ("why", loss)
                        ], level: .warning)
                }
            } catch {
                let failure = JobError(classifying: error)
                guard Self.statusesToGoOn.contains(failure.status) else {
                    return CommandEnd(context: context, command: "events", started: .now)
                        .notOpened(error, metricFamilies: [])
                }
                let delay = backoff.next()
                log.enter(
                    .term, "reconnecting", "the database cannot be reached: the follower tries again with backoff",
                    [("error", failure.message), ("retry_in_seconds", String(format: "%.1f", delay.seconds))],
                    level: .warning)
                sleep(delay, stop: context.stopSignal)
            }
        }
        let stopped = JobError.stopped(by: context.stopSignal.stopRequest ?? SIGTERM)
        if let last, last.status == stopped.status { return last }
        context.logger.info("the follower stopped", [("exit_status", stopped.status.description)])
        return RunResult(
            status: stopped.status, runKey: last?.runKey ?? context.runKey, reportFolder: last?.reportFolder,
            counts: RunCounts(), message: stopped.description)
    }

    /// One term: connect, wait for the lock as a standby, then follow, one report period after another, until the
    /// lock is lost or a stop is asked.
    /// - Returns: The last period's result; `nil` when stopped before a period began.
    /// - Throws: A database error (the caller reconnects) or a configuration error (the caller ends).
    private func serve(
        _ term: StopSignal, log: FollowerLog, backoff: inout ReconnectBackoff, backfill: inout Bool
    ) async throws -> RunResult? {
        let configuration = context.configuration
        let lock = try context.connect(applicationName: "referral-sync events follower")
        defer { lock.releaseAdvisoryLocksAndClose() }
        let store = try Session.store(on: lock, configured: configuration.schema)
        if store != StoreKeys.defaultStore { context.labelLogs(store: store) }
        while try !RunLock.tryTake(on: lock, shard: configuration.shard, kind: .events, store: store) {
            log.enter(
                .term, "standby",
                "standby: another follower or events run holds the events lock; taking over "
                    + "when it lets go")
            if sleep(Self.standbyInterval, stop: term) { return nil }
        }
        let watch = try LockWatch(
            lockBackend: Int32(try lock.query("SELECT pg_backend_pid()").first?.int(0) ?? 0),
            connection: context.connect(), stopSignal: term, logger: context.logger)
        defer { watch.stop() }
        try Migrations.verify(on: lock)
        let currency = try Session.resolveCurrency(configuration.currency, on: lock, logger: context.logger)
        backoff.reset()
        log.enter(
            .term, "active", "active: the follower holds the events lock and follows new rows",
            [
                ("sweep_seconds", String(format: "%g", follow.sweepSeconds)),
                ("report_every_seconds", String(format: "%g", follow.reportEverySeconds)),
            ])
        let listener = NotificationListener(context: context, store: store, log: log)
        var last: RunResult?
        while !term.mustStop {
            var fault: (any Error)?
            let result = try await FollowerPeriod.run(
                context: context, options: options, follow: follow, term: term, lock: lock, store: store,
                currency: currency, listener: listener, log: log, backfill: &backfill, databaseFault: &fault)
            last = result
            if let fault { throw fault }
            if !Self.statusesToGoOn.contains(result.status) { break }
        }
        return last
    }

    /// Sleeps `duration`, waking early on a stop.
    /// - Returns: Whether a stop came.
    @discardableResult
    private func sleep(_ duration: Duration, stop: StopSignal) -> Bool {
        let end = ContinuousClock.now + duration
        while !stop.mustStop {
            let left = end - ContinuousClock.now
            if left <= .zero { return false }
            Thread.sleep(forTimeInterval: min(left, NotificationListener.slice).seconds)
        }
        return true
    }
}
