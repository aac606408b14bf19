import Attentive
import ReferralModel
import ReferralStore

/// `--mode v1` (the default): one `POST /v1/attributes/custom` per changed participant, at most `--concurrency`
/// in flight (``BoundedSender``): a stop request only stops new requests from starting, and those in flight are
/// waited for and recorded.
final class V1Sender {
    private let client: AttentiveClient
    private let recorder: RunRecorder
    private let sender: BoundedSender
    private let tracker: DeliveryTracker

    init(client: AttentiveClient, recorder: RunRecorder, stopSignal: StopSignal, concurrency: Int) {
        self.client = client
        self.recorder = recorder
        sender = BoundedSender(concurrency: concurrency, stopSignal: stopSignal, shutsDown: client)
        tracker = DeliveryTracker(client: client, stopSignal: stopSignal)
    }

    /// A participant's request and Attentive's answer.
    struct Delivery: Sendable {
        var participant: ParticipantState
        var outcome: DeliveryOutcome
    }

    /// Sends every changed participant `loop` streams from `cursor`.
    /// - Returns: Why the run stopped early, if it did.
    func run(_ loop: ParticipantLoop, cursor: ParticipantCursor) async -> JobError? {
        let client = self.client
        let interruption = await sender.run(of: Delivery.self) { start in
            await loop.run(cursor, notSendingReason: { notSendingReason }) { participant in
                await start {
                    let update = participant.attributeUpdate
                    recorder.countRequest()
                    return { Delivery(participant: participant, outcome: await client.sendCustomAttributes(update)) }
                }
            }
        } settle: {
            handle($0)
        }
        return tracker.verdict(otherwise: interruption)
    }

    private var notSendingReason: String? {
        tracker.notSendingReason(cannotRecord: recorder.ledgerError != nil)
    }

    private func handle(_ delivery: Delivery) {
        let answer = tracker.note(delivery.outcome)
        let outcome: SyncOutcome = answer.accepted ? .synced : answer.refused ? .refused : .failed
        recorder.recordOutcome(
            delivery.participant, outcome, httpStatus: answer.httpStatus,
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
