import ReferralModel
import ReferralStore

/// The in-flight rule (README "Bulk mode"): a participant inside a bulk job that has not resolved is not sent
/// again, in either mode, until the job's results are applied. Sending it meanwhile could let the job, applied
/// later by Attentive, overwrite the newer value; and its values are never marked synced before Attentive reports
/// the job done.
extension RunRecorder {
    /// Records a changed participant held back by `held`: values the job carries are `in_flight` (their pending rows
    /// already say so); other changed values wait, `skipped` with the reason, and are sent by a run after the job
    /// resolves.
    func recordHeld(_ participant: ParticipantState, by held: InFlightRecord) {
        for attribute in participant.changedAttributes where held.values.keys.contains(attribute) {
            var value = participant
            value.changedAttributes = [attribute]
            let carried = held.values[attribute] ?? nil
            let newer =
                carried == participant.values[attribute]
                ? "" : "; it carries '\(carried ?? "")', this newer value is sent after it resolves"
            report(value, .inFlight, error: "in \(held.jobName) since \(held.since), not finished yet\(newer)")
        }
        let waiting = participant.changedAttributes.filter { !held.values.keys.contains($0) }
        guard !waiting.isEmpty else { return }
        var rest = participant
        rest.changedAttributes = waiting
        recordOutcome(
            rest, .skipped,
            error: "waiting for \(held.jobName) (since \(held.since)) to finish; sent by a run after it resolves")
    }
}
