import Attentive
import ReferralModel
import ReferralStore

/// `--mode v1` (the default): one `POST /v1/attributes/custom` per changed participant, at most `--concurrency`
/// in flight. The task group never throws and no request is ever cancelled: a stop request only stops new
/// requests from starting, and those in flight are waited for and recorded.
///
/// The requests run on Swift's shared pool (`globalConcurrentExecutor`), not on the pipeline's own thread, which
/// the blocking database calls of the loop occupy (``PipelineThread``).
final class V1Sender {
    private let client: AttentiveClient
    private let recorder: RunRecorder
    private let stopSignal: StopSignal
    private let concurrency: Int
    private let tracker = DeliveryTracker()

    init(client: AttentiveClient, recorder: RunRecorder, stopSignal: StopSignal, concurrency: Int) {
        self.client = client
        self.recorder = recorder
        self.stopSignal = stopSignal
        self.concurrency = concurrency
    }

    /// A participant's request and Attentive's answer.
    struct Delivery: Sendable {
        var participant: ParticipantState
        var outcome: DeliveryOutcome
    }

    /// Sends every changed participant `loop` streams from `cursor`.
    /// - Returns: Why the run stopped early, if it did.
    func run(_ loop: ParticipantLoop, cursor: ParticipantCursor) async -> JobError? {
        let interruption = await withTaskGroup(of: Delivery.self) { group in
            var running = 0
            let interruption = await loop.run(cursor, notSendingReason: { notSendingReason }) { participant in
                if running >= concurrency, let delivery = await group.next() {
                    running -= 1
                    handle(delivery)
                }
                let update = participant.attributeUpdate
                recorder.countRequest()
                let client = self.client
                group.addTask(executorPreference: globalConcurrentExecutor) {
                    Delivery(participant: participant, outcome: await client.sendCustomAttributes(update))
                }
                running += 1
            }
            if stopSignal.stopRequest != nil { client.beginShutdown() }
            while let delivery = await group.next() { handle(delivery) }
            return interruption
        }
        return tracker.verdict(stopSignal: stopSignal, client: client, otherwise: interruption)
    }

    private var notSendingReason: String? {
        tracker.notSendingReason(stopSignal: stopSignal, cannotRecord: recorder.ledgerError != nil)
    }

    private func handle(_ delivery: Delivery) {
        let answer = tracker.note(delivery.outcome)
        recorder.recordOutcome(
            delivery.participant, answer.accepted ? .synced : .failed, httpStatus: answer.httpStatus,
            error: answer.error, attempts: answer.attempts)
    }
}

/// `--dry-run`: every participant that would be sent is recorded as `dry_run` with the request body Attentive
/// would receive, written to `dry_run_requests.jsonl` by the client's own encoder.
enum DryRunSender {
    static func run(_ loop: ParticipantLoop, cursor: ParticipantCursor, recorder: RunRecorder) async -> JobError? {
        await loop.run(cursor, notSendingReason: { nil }) { participant in
            recorder.recordOutcome(participant, .dryRun)
            recorder.recordDryRunRequest(CustomAttributesJSON.encode(participant.attributeUpdate))
        }
    }
}
