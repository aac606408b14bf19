import Attentive
import Foundation
import ReferralModel
import ReferralStore

/// `--mode bulk`: sends changed participants through `POST /v2/bulk/user/attributes` in batches of up to 256,
/// then waits (at most `--bulk-wait`) for the jobs and applies their per-record results (README "Bulk mode").
///
/// Each batch is recorded in PostgreSQL before it is submitted, and its values are marked `in_flight`; a value
/// reaches the ledger only when the job's results file says Attentive applied its record. A stop at any point
/// leaves batches the next run can continue from. Used by the run's main task only; submissions go through a
/// ``BoundedSender``, at most `--concurrency` at once, and are never cancelled.
final class BulkSender {
    private let configuration: RunConfiguration
    private let client: AttentiveClient
    private let store: BulkJobStore
    private let recorder: RunRecorder
    private let stopSignal: StopSignal
    private let logger: Logger
    private let runID: Int64
    private let sender: BoundedSender
    private let tracker: DeliveryTracker
    /// The first error recording a batch or its outcome.
    private var storeError: (any Error)?
    /// Jobs this run submitted that Attentive accepted.
    private var submitted: [OpenBulkJob] = []
    /// What waiting for this run's jobs did.
    private(set) var tally = BulkTally()

    init(
        configuration: RunConfiguration, client: AttentiveClient, store: BulkJobStore, recorder: RunRecorder,
        stopSignal: StopSignal, logger: Logger, runID: Int64
    ) {
        self.configuration = configuration
        self.client = client
        self.store = store
        self.recorder = recorder
        self.stopSignal = stopSignal
        self.logger = logger
        self.runID = runID
        sender = BoundedSender(concurrency: configuration.concurrency, stopSignal: stopSignal, shutsDown: client)
        tracker = DeliveryTracker(client: client, stopSignal: stopSignal)
    }

    /// Attentive's answer to one submitted batch.
    struct Submission: Sendable {
        var batchID: Int64
        var records: Int
        var outcome: BulkSubmission
    }

    /// Streams participants, submits the changed ones, waits for the jobs, applies their results and writes the
    /// records' outcomes to `changes.csv`.
    /// - Returns: Why the run stopped early, if it did (``DeliveryTracker/verdict(otherwise:)``).
    func run(_ loop: ParticipantLoop, cursor: ParticipantCursor) async -> JobError? {
        var interruption = await submitAll(loop, cursor: cursor)
        if interruption == nil, notSendingReason == nil, !submitted.isEmpty {
            let collector = BulkJobCollector(
                client: client, store: store, concurrency: configuration.concurrency, stopSignal: stopSignal,
                logger: logger)
            let deadline = ContinuousClock.now + .milliseconds(Int64(configuration.bulkWaitSeconds * 1000))
            _ = await collector.collect(submitted, until: deadline)
            tally = collector.tally
            storeError = storeError ?? collector.storeError
            if client.isHalted { tracker.noteRefusedKey(BulkJobCollector.keyRefusedWhilePolling) }
        } else {
            tally.jobsStillOpen = submitted.count
        }
        do {
            if tally.jobsStillOpen > 0, storeError == nil { try store.describeJobsInProgress() }
            try reportRecords()
        } catch {
            storeError = storeError ?? error
        }
        if let storeError { interruption = interruption ?? JobError(classifying: storeError) }
        return tracker.verdict(otherwise: interruption)
    }

    // MARK: - Submitting

    private func submitAll(_ loop: ParticipantLoop, cursor: ParticipantCursor) async -> JobError? {
        await sender.run(of: Submission.self) { start in
            var batch: [ParticipantState] = []
            let interruption = await loop.run(cursor, notSendingReason: { notSendingReason }) { participant in
                batch.append(participant)
                if batch.count == configuration.bulkBatchSize {
                    await submit(batch, start: start)
                    batch = []
                }
            }
            if !batch.isEmpty {
                if interruption == nil, notSendingReason == nil {
                    await submit(batch, start: start)
                } else {
                    let reason = notSendingReason ?? "the participants could not be read to the end"
                    for participant in batch {
                        recorder.recordOutcome(participant, .failed, error: "not sent: \(reason)")
                    }
                }
            }
            return interruption
        } settle: {
            settle($0)
        }
    }

    /// Waits for a free slot, records the batch, then submits it. A batch that cannot be recorded is not sent.
    private func submit(_ batch: [ParticipantState], start: BoundedSender.Start<Submission>) async {
        let client = self.client
        await start {
            if let reason = notSendingReason {
                for participant in batch { recorder.recordOutcome(participant, .failed, error: "not sent: \(reason)") }
                return nil
            }
            let batchID: Int64
            do {
                batchID = try store.recordBatch(batch, shard: configuration.shard)
            } catch {
                storeError = error
                for participant in batch {
                    recorder.recordOutcome(
                        participant, .failed, error: "not sent: the bulk batch could not be recorded: \(error)")
                }
                return nil
            }
            let updates = batch.map(\.attributeUpdate)
            recorder.countRequest()
            return { Submission(batchID: batchID, records: updates.count, outcome: await client.submitBulk(updates)) }
        }
    }

    /// Records Attentive's answer to a submission (its text made storable: ``RunRecorder/printable(_:)``).
    private func settle(_ submission: Submission) {
        switch submission.outcome {
        case .unauthorized(let status, let message): tracker.noteRefusedKey("Attentive answered \(status): \(message)")
        case .gaveUp(nil, let message, _): tracker.noteUnanswered(message)
        default: break
        }
        guard storeError == nil else { return }
        let batchID = submission.batchID
        let printable = RunRecorder.printable
        do {
            switch submission.outcome {
            case .accepted(let jobID, let attempts):
                try store.markSubmitted(batchID: batchID, jobID: printable(jobID), httpStatus: 202, attempts: attempts)
                submitted.append(
                    OpenBulkJob(
                        batchID: batchID, jobID: printable(jobID), runID: runID, since: "", records: submission.records)
                )
            case .rejected(let status, let message):
                try store.markFailed(
                    batchID: batchID, httpStatus: status == 0 ? nil : status, error: printable(message), attempts: 1)
            case .gaveUp(let status, let message, let attempts):
                try store.markFailed(
                    batchID: batchID, httpStatus: status, error: printable(message), attempts: attempts)
            case .unauthorized(let status, let message):
                try store.markFailed(batchID: batchID, httpStatus: status, error: printable(message), attempts: 1)
            case .notSent(let reason):
                try store.markFailed(
                    batchID: batchID, httpStatus: nil, error: printable("not sent: \(reason)"), attempts: 0)
            }
        } catch {
            storeError = error
        }
    }

    /// Why no new batch should be submitted, if one should not.
    private var notSendingReason: String? {
        tracker.notSendingReason(cannotRecord: storeError != nil || recorder.ledgerError != nil)
    }

    // MARK: - Reporting

    /// Writes every record of this run's jobs to `changes.csv` with its outcome as the database holds it.
    private func reportRecords() throws {
        let wait = Int(configuration.bulkWaitSeconds)
        try store.forEachRecord(submittedBy: runID) { record in
            switch record.succeeded {
            case true?:
                recorder.report(
                    record.participant, .synced, httpStatus: record.httpStatus, attempts: record.attempts)
            case false?:
                recorder.report(
                    record.participant, .failed, httpStatus: record.httpStatus, error: record.error,
                    attempts: record.attempts)
            case nil:
                let job = record.jobID.map { "bulk job \($0)" } ?? "bulk batch \(record.batchID)"
                recorder.report(
                    record.participant, .inFlight, httpStatus: record.httpStatus,
                    error: "in \(job), not finished when this run stopped waiting (--bulk-wait \(wait) s); "
                        + "the next run collects it",
                    attempts: record.attempts)
            }
        }
    }
}
