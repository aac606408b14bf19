import Attentive
import Foundation
import ReferralModel
import ReferralStore

/// What became of one participant of a drift check.
enum DriftVerdict: Sendable {
    /// Attentive's answer: the user's attributes (`nil`: Attentive does not know the user), or the error.
    case read(Result<[String: String]?, AttentiveError>)
    /// Not read: no usable identity, or the check was stopping.
    case notRead(reason: String, requestFailed: Bool)
}

extension DriftCheck {
    /// Reads each participant's attributes from Attentive with at most `concurrency` requests in flight
    /// (``BoundedSender``); no request is ever cancelled (every answer is recorded), a stop request only stops new
    /// ones. Answers arrive in any order; they are recorded in the cursor's order, so the reports are sorted by
    /// `customer_id` (a participant waits while an earlier one is still being retried).
    /// - Returns: Why the check must end with a failure status, if it must (``DeliveryTracker/verdict(otherwise:)``).
    func readAndCompare(cursor: ParticipantCursor, recorder: DriftRecorder, expectedCount: Int?) async -> JobError? {
        let client = AttentiveClient(configuration: context.clientConfiguration())
        let sender = BoundedSender(
            concurrency: configuration.concurrency, stopSignal: stopSignal, shutsDown: client)
        let tracker = DeliveryTracker(client: client, stopSignal: stopSignal)
        let progress = ProgressReporter(logger: logger, label: "participants checked", expectedCount: expectedCount)
        var waiting: [Int: (ParticipantState, DriftVerdict)] = [:]
        var nextToRecord = 0

        func record(_ participant: ParticipantState, _ verdict: DriftVerdict) {
            switch verdict {
            case .read(.success(let attributes)):
                let findings = DriftComparison.findings(for: participant, attentive: attributes ?? [:])
                recorder.recordChecked(findings)
                if logger.isEnabled(.debug) {
                    let drifted = findings.map { "\($0.attribute.rawValue): \($0.kind.rawValue)" }
                    logger.debug(
                        "compared",
                        [
                            ("customer_id", participant.customerID), ("known_to_attentive", String(attributes != nil)),
                            ("drifted", drifted.joined(separator: "; ")),
                        ])
                }
            case .read(.failure(let error)):
                if error.kind == .unauthorized { tracker.noteRefusedKey(error.description) }
                if error.kind == .unavailable, error.status == nil { tracker.noteUnanswered(error.message) }
                recorder.recordUnchecked(participant.customerID, reason: error.description, requestFailed: true)
            case .notRead(let reason, let requestFailed):
                recorder.recordUnchecked(participant.customerID, reason: reason, requestFailed: requestFailed)
            }
            progress.tick(recorder.counts.checked + recorder.counts.unchecked)
        }

        /// Keeps `verdict` until every earlier participant is recorded, then records what is in order.
        func deliver(_ sequence: Int, _ participant: ParticipantState, _ verdict: DriftVerdict) {
            waiting[sequence] = (participant, verdict)
            while let (next, nextVerdict) = waiting.removeValue(forKey: nextToRecord) {
                record(next, nextVerdict)
                nextToRecord += 1
            }
        }

        let interruption = await sender.run(of: (Int, ParticipantState, DriftVerdict).self) { start in
            var sequence = 0
            return await cursor.forEach { participant in
                defer { sequence += 1 }
                recorder.countParticipant()
                if let reason = participant.unsendableReason {
                    deliver(sequence, participant, .notRead(reason: reason, requestFailed: false))
                    return
                }
                if stopSignal.mustStop || tracker.refusedKey != nil {
                    let reason =
                        tracker.refusedKey != nil ? "Attentive refused the API key earlier" : "the check was stopped"
                    deliver(sequence, participant, .notRead(reason: "not read: \(reason)", requestFailed: true))
                    return
                }
                let user = AttentiveUser(email: participant.identity.email, phone: participant.identity.phone)
                await start {
                    { [sequence] in (sequence, participant, .read(await client.customAttributes(of: user))) }
                }
            }
        } settle: {
            deliver($0.0, $0.1, $0.2)
        }
        progress.finish(recorder.counts.checked + recorder.counts.unchecked)
        return tracker.verdict(otherwise: interruption)
    }
}
