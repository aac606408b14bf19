import Attentive
import ReferralModel
import ReferralStore

/// The one loop over the participants the attribute query streams (those with a value that differs from the
/// ledger), shared by every way of sending (v1, bulk, dry run): each is skipped with its reason,
/// held behind an unresolved bulk job, refused with the reason no request may start, or handed to `send`.
struct ParticipantLoop {
    let recorder: RunRecorder
    let progress: ProgressReporter
    /// Participants inside a bulk job that has not resolved (README "Bulk mode": the in-flight rule).
    let inFlight: [String: InFlightRecord]
    /// What the progress line counts: "requests" or "bulk jobs".
    let unit: String

    /// Streams `cursor` to the end or to its first error.
    /// - Parameters:
    ///   - notSendingReason: Why no new request may start now, if one may not (a stop, a refused key, a ledger
    ///     that cannot be written); asked again for each participant.
    ///   - send: Sends (or batches) one changed participant that may be sent.
    /// - Returns: The error that ended the stream early, classified, if one did.
    func run(
        _ cursor: ParticipantCursor, notSendingReason: () -> String?, send: (ParticipantState) async -> Void
    ) async -> JobError? {
        var streamed = 0
        let interruption = await cursor.forEach { participant in
            recorder.countChanged(participant)
            streamed += 1
            progress.tick(streamed, "\(unit) \(recorder.counts.requestsSent)")
            switch participant.decision(heldBy: inFlight[participant.customerID]) {
            case .unchanged: return
            case .skip(let reason): recorder.recordOutcome(participant, .skipped, error: reason)
            case .hold(let held): recorder.recordHeld(participant, by: held)
            case .send:
                if let reason = notSendingReason() {
                    recorder.recordOutcome(participant, .failed, error: "not sent: \(reason)")
                } else {
                    await send(participant)
                }
            }
        }
        progress.finish(streamed, "\(unit) \(recorder.counts.requestsSent)")
        return interruption
    }
}

extension ParticipantCursor {
    /// Calls `body` with each participant the cursor streams, to the end or to the first error.
    /// - Returns: The error that ended the stream early, classified, if one did.
    func forEach(_ body: (ParticipantState) async -> Void) async -> JobError? {
        while true {
            let next: ParticipantState?
            do {
                next = try self.next()
            } catch {
                return JobError(classifying: error)
            }
            guard let participant = next else { return nil }
            await body(participant)
        }
    }
}

/// What a run does with one participant before any request: the one rule the loop and `explain` share.
enum ParticipantDecision {
    /// Nothing differs from the ledger.
    case unchanged
    /// The identity cannot be sent: the changed values stay pending as skipped, for this reason.
    case skip(String)
    /// A bulk job that has not resolved holds the participant (the in-flight rule).
    case hold(InFlightRecord)
    /// Its changed values are sent.
    case send
}

extension ParticipantState {
    /// What the run does with this participant, given the unresolved bulk job that holds it, if any.
    func decision(heldBy held: InFlightRecord?) -> ParticipantDecision {
        guard !changedAttributes.isEmpty else { return .unchanged }
        if let reason = unsendableReason { return .skip(reason) }
        if let held { return .hold(held) }
        return .send
    }

    /// The participant's changed values as Attentive's custom-attributes update.
    var attributeUpdate: AttributeUpdate {
        AttributeUpdate(
            user: AttentiveUser(email: identity.email, phone: identity.phone), properties: changedProperties)
    }
}
