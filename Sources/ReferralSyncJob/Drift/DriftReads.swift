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
    /// Reads each participant's attributes from Attentive with at most `concurrency` requests in flight, through
    /// a non-throwing task group; no request is ever cancelled (every answer is recorded), a stop request
    /// only stops new ones. Answers arrive in any order; they are recorded in the cursor's order, so the reports
    /// are sorted by `customer_id` (a participant waits while an earlier one is still being retried).
    /// - Returns: Why the check must end with a failure status, if it must.
    func readAndCompare(cursor: ParticipantCursor, recorder: DriftRecorder, expectedCount: Int?) async -> JobError? {
        let client = AttentiveClient(configuration: context.clientConfiguration())
        let progress = ProgressReporter(logger: logger, label: "participants checked", expectedCount: expectedCount)
        var interruption: JobError?
        var unauthorized: String?
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
                if error.kind == .unauthorized { unauthorized = unauthorized ?? error.description }
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

        await withTaskGroup(of: (Int, ParticipantState, DriftVerdict).self) { group in
            var inFlight = 0
            var sequence = 0
            interruption = await cursor.forEach { participant in
                defer { sequence += 1 }
                recorder.countParticipant()
                if let reason = participant.unsendableReason {
                    deliver(sequence, participant, .notRead(reason: reason, requestFailed: false))
                    return
                }
                if stopSignal.stopRequest != nil || unauthorized != nil {
                    let reason = unauthorized != nil ? "Attentive refused the API key earlier" : "the check was stopped"
                    deliver(sequence, participant, .notRead(reason: "not read: \(reason)", requestFailed: true))
                    return
                }
                if inFlight >= configuration.concurrency, let (done, participant, verdict) = await group.next() {
                    inFlight -= 1
                    deliver(done, participant, verdict)
                }
                let user = AttentiveUser(email: participant.identity.email, phone: participant.identity.phone)
                group.addTask(executorPreference: globalConcurrentExecutor) { [sequence] in
                    (sequence, participant, .read(await client.customAttributes(of: user)))
                }
                inFlight += 1
            }
            if stopSignal.stopRequest != nil { client.beginShutdown() }
            while let (done, participant, verdict) = await group.next() { deliver(done, participant, verdict) }
        }
        progress.finish(recorder.counts.checked + recorder.counts.unchecked)
        if let signal = stopSignal.stopRequest {
            return JobError(
                signal == SIGINT ? .interrupted : .terminated, "drift check stopped by signal \(signal)",
                remedy: "Run it again; it changes nothing in Attentive.")
        }
        if let unauthorized {
            return JobError(
                .permissionDenied, unauthorized,
                remedy: "Check ATTENTIVE_API_KEY: it must belong to a custom app with Custom Attributes access.")
        }
        if let unreachable = AttentiveReachability.unreachable(client.statistics()) { return unreachable }
        return interruption
    }
}
