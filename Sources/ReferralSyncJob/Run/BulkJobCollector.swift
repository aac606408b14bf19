import Attentive
import Foundation
import ReferralStore

/// How often unresolved bulk jobs are polled: after round 1 wait `first`, then twice as long each round, at most
/// `longest`, and never past the run's deadline. Attentive asks for backoff; its jobs can take hours.
struct BulkPollSchedule: Sendable, Equatable {
    var first: Duration = .milliseconds(250)
    var longest: Duration = .seconds(30)

    /// The wait after polling round `round` (1 is the first round).
    func delay(afterRound round: Int) -> Duration {
        let doublings = max(0, min(round - 1, 30))
        let delay = first * (1 << doublings)
        return delay >= longest ? longest : delay
    }
}

/// What collecting bulk jobs did, for the summary.
struct BulkTally: Sendable, Equatable {
    var jobsCompleted = 0
    var jobsFailed = 0
    var recordsSucceeded = 0
    var recordsFailed = 0
    var jobsStillOpen = 0

    var isEmpty: Bool { self == BulkTally() }

    var line: String {
        "\(jobsCompleted) completed (\(recordsSucceeded) records synced, \(recordsFailed) failed), "
            + "\(jobsFailed) failed as a whole, \(jobsStillOpen) still in progress"
    }
}

/// Polls bulk jobs and applies their results (README "Bulk mode"): at the start of every run for the jobs earlier
/// runs left in flight (one round), and at the end of a bulk run for its own jobs (until they resolve, the deadline
/// passes or the run is stopped). Used by the run's main task only; polls go through a ``BoundedSender``, at most
/// `concurrency` at once, and are never cancelled.
final class BulkJobCollector {
    /// The refused key's message when Attentive answered 401/403 to a poll (the client halts; exit 77).
    static let keyRefusedWhilePolling = "Attentive refused the API key while bulk jobs were polled"

    private let client: AttentiveClient
    private let store: BulkJobStore
    private let sender: BoundedSender
    private let stopSignal: StopSignal
    private let logger: Logger
    private let schedule: BulkPollSchedule
    private(set) var tally = BulkTally()
    /// The first error writing an outcome; after it, nothing more is applied (the next run applies it).
    private(set) var storeError: (any Error)?

    init(
        client: AttentiveClient, store: BulkJobStore, concurrency: Int, stopSignal: StopSignal, logger: Logger,
        schedule: BulkPollSchedule = BulkPollSchedule()
    ) {
        self.client = client
        self.store = store
        // A stop does not shut the client down here: a poll in flight finishes its retries and its answer is applied.
        sender = BoundedSender(concurrency: concurrency, stopSignal: stopSignal, shutsDown: nil)
        self.stopSignal = stopSignal
        self.logger = logger
        self.schedule = schedule
    }

    /// What one poll of one job found.
    enum Check: Sendable {
        /// Not finished; Attentive's word for its state.
        case running(String)
        /// Finished, with its per-record results.
        case completed(String, [BulkRecordResult])
        /// It will never give results; its values are sent again.
        case failed(String)
        /// Its status or results could not be read this time; it stays in flight.
        case unreadable(String)
    }

    /// Polls `jobs` until every one has resolved, `deadline` has passed, the run is stopped or Attentive refuses
    /// the key. The last round runs at the deadline.
    /// - Returns: The jobs still in flight.
    func collect(_ jobs: [OpenBulkJob], until deadline: ContinuousClock.Instant) async -> [OpenBulkJob] {
        let clock = ContinuousClock()
        var open = jobs
        var round = 0
        while !open.isEmpty {
            open = await pollOnce(open)
            round += 1
            if open.isEmpty || shouldStop { break }
            let wait = min(schedule.delay(afterRound: round), deadline - clock.now)
            guard wait > .zero else { break }
            logger.debug(
                "bulk jobs still in progress", [("jobs", String(open.count)), ("next_poll", "\(wait)")])
            await sleep(wait)
            if shouldStop { break }
        }
        tally.jobsStillOpen = open.count
        return open
    }

    private var shouldStop: Bool { stopSignal.mustStop || client.isHalted || storeError != nil }

    /// Polls each job once and applies what resolved.
    private func pollOnce(_ jobs: [OpenBulkJob]) async -> [OpenBulkJob] {
        var open: [OpenBulkJob] = []
        let client = self.client
        await sender.run(of: (OpenBulkJob, Check).self) { start in
            for job in jobs {
                if shouldStop {
                    open.append(job)
                    continue
                }
                await start { { (job, await Self.check(job, client: client)) } }
            }
        } settle: { done, check in
            if !settle(done, check) { open.append(done) }
        }
        return open
    }

    /// Records what a poll found. Returns whether the job resolved. Text from Attentive goes to PostgreSQL only
    /// through ``RunRecorder/printable(_:)`` (a NUL cannot be stored in `text`).
    private func settle(_ job: OpenBulkJob, _ check: Check) -> Bool {
        guard storeError == nil else { return false }
        let printable = RunRecorder.printable
        do {
            switch check {
            case .running(let word):
                try store.recordPoll(batchID: job.batchID, attentiveStatus: printable(word))
                return false
            case .unreadable(let message):
                logger.warning("bulk job status unreadable", [("job", job.jobID ?? "?"), ("error", message)])
                try store.recordPoll(batchID: job.batchID, attentiveStatus: printable("unreadable: \(message)"))
                return false
            case .failed(let reason):
                logger.warning("bulk job failed", [("job", job.jobID ?? "batch \(job.batchID)"), ("error", reason)])
                try store.markFailed(batchID: job.batchID, httpStatus: nil, error: printable(reason), attempts: 0)
                tally.jobsFailed += 1
                tally.recordsFailed += job.records
                return true
            case .completed(let word, let results):
                let outcomes = results.map {
                    BulkRecordOutcome(
                        index: $0.index, email: $0.identifiers.nonEmptyEmail.map(printable),
                        phone: $0.identifiers.nonEmptyPhone.map(printable), succeeded: $0.succeeded,
                        error: $0.error.map(printable))
                }
                if let applied = try store.applyResults(batchID: job.batchID, attentiveStatus: word, outcomes: outcomes)
                {
                    tally.jobsCompleted += 1
                    tally.recordsSucceeded += applied.succeeded
                    tally.recordsFailed += applied.failed
                }
                return true
            }
        } catch {
            storeError = error
            return false
        }
    }

    /// Polls one job and, when it completed, reads its results.
    static func check(_ job: OpenBulkJob, client: AttentiveClient) async -> Check {
        guard let jobID = job.jobID else {
            return .failed(
                "the run that sent bulk batch \(job.batchID) stopped before recording Attentive's answer, so its "
                    + "outcome cannot be known; its values are sent again")
        }
        switch await client.bulkJobStatus(jobId: jobID) {
        case .inProgress(let word):
            return .running(word)
        case .failed(let message):
            return .failed("Attentive reports bulk job \(jobID) \(message)")
        case .unknownJob:
            return .failed("Attentive does not know bulk job \(jobID) (404)")
        case .error(let message):
            return .unreadable(message)
        case .completed(let url):
            guard let url else {
                return .failed("bulk job \(jobID) completed without a results file, so no record can be confirmed")
            }
            switch await client.bulkResults(at: url) {
            case .success(let results):
                return .completed("COMPLETED", results)
            case .failure(let error) where error.kind == .rejected || error.kind == .unexpectedResponse:
                return .failed("the results file of bulk job \(jobID) cannot be read: \(error)")
            case .failure(let error):
                return .unreadable(error.description)
            }
        }
    }

    /// Sleeps `duration` in short slices, waking early when the run is asked to stop.
    private func sleep(_ duration: Duration) async {
        let clock = ContinuousClock()
        let end = clock.now + duration
        while clock.now < end, !stopSignal.mustStop {
            try? await Task.sleep(for: min(.milliseconds(100), end - clock.now))
        }
    }
}
