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
    /// Attentive's answer to the first 401/403.
    private var unauthorized: String?
    /// The last failure that got no HTTP answer, to name a TLS or connection problem if none ever answered.
    private var lastUnanswered: String?

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
        if let signal = stopSignal.stopRequest { return JobError.stopped(by: signal) }
        if let unauthorized { return JobError.unauthorized(unauthorized) }
        if let unreachable = AttentiveReachability.unreachable(client.statistics(), lastError: lastUnanswered) {
            return unreachable
        }
        return interruption
    }

    private var notSendingReason: String? {
        NotSending.reason(
            stopSignal: stopSignal, keyRefused: unauthorized != nil, cannotRecord: recorder.ledgerError != nil)
    }

    private func handle(_ delivery: Delivery) {
        let participant = delivery.participant
        switch delivery.outcome {
        case .accepted(let status, let attempts):
            recorder.recordOutcome(participant, .synced, httpStatus: status, attempts: attempts)
        case .rejected(let status, let message, let attempts):
            recorder.recordOutcome(participant, .failed, httpStatus: status, error: message, attempts: attempts)
        case .gaveUp(let status, let message, let attempts):
            if status == nil { lastUnanswered = message }
            recorder.recordOutcome(participant, .failed, httpStatus: status, error: message, attempts: attempts)
        case .unauthorized(let status, let message):
            unauthorized = unauthorized ?? "Attentive answered \(status): \(message)"
            recorder.recordOutcome(participant, .failed, httpStatus: status, error: message, attempts: 1)
        case .notSent(let reason):
            recorder.recordOutcome(participant, .failed, error: "not sent: \(reason)")
        }
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
