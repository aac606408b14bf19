import Postgres
import ReferralModel
import ReferralStore

/// Record: once every participant is sent, counts the rejected rows and the warnings, checks that every input row is accounted
/// for, flushes the ledger, forgets pending values no longer wanted, counts what stays pending and lists the
/// refusals that stand (`refused.csv`).
struct RecordStage {
    let context: JobContext
    let session: Session

    func finish(
        _ rejectedRows: RejectedRowsPass, attributesFile: AttributesFilePass, outputs: SyncStages.Outputs,
        interruption: JobError?, outcome: inout SyncStages.Outcome, stages: inout StageTimer
    ) async throws {
        let configuration = context.configuration
        let recorder = outputs.recorder
        let file = try await attributesFile.finish().get()
        recorder.countParticipants(file)
        stages.record("attributes_file", seconds: file.seconds)
        let rejected = try await rejectedRows.finish().get()
        recorder.countRejected(rejected)
        OutboundWarning.log(recorder.counts, to: context.logger)
        if !accountForRows(rejected.accounts, recorder: recorder) {
            try ParticipantStateStore.requestFullRecompute(
                on: session.writer, reason: "run \(context.runKey) found input rows that do not add up")
        }
        stages.record("rejected_rows", seconds: rejected.seconds)
        recorder.flushLedger()
        if let ledgerError = recorder.ledgerError {
            outcome.failure = JobError(classifying: ledgerError)
        } else if interruption == nil, configuration.shard == .all, !configuration.dryRun, let ledger = outputs.ledger {
            try ledger.forgetPendingNotSeen(since: session.runID)
            try ParticipantStateStore.settleCompared(on: session.writer)
        }
        if let interruption, outcome.failure == nil { outcome.failure = interruption }
        if let ledger = outputs.ledger {
            let pending = try ledger.pendingSummary()
            outcome.pendingCount = pending.count
            if pending.count > 0 {
                outcome.pendingLine = "\(pending.count) values, oldest since \(pending.oldest ?? "?")"
            }
        }
        outcome.refusedStanding = try RefusedListing.write(
            .values, to: outputs.folder, shard: configuration.shard, on: session.writer)
        stages.finish("record")
    }

    /// Adds up each input table: read = counted + not participants + rejected. A difference means two
    /// definitions disagree; it is logged and shown in the summary, never hidden.
    /// - Parameter accounts: From the row accounting query on the run's snapshot (``RejectedRowsPass``), after
    ///   the recorder has counted the rejected rows.
    /// - Returns: Whether every table adds up. When one does not, the kept recompute may have missed a change
    ///   (a load with the triggers disabled, say), so the caller asks the next run for a full recompute.
    private func accountForRows(_ accounts: [TableAccount], recorder: RunRecorder) -> Bool {
        recorder.recordAccounts(accounts)
        var balanced = true
        for account in recorder.counts.tableAccounts where account.unaccounted != 0 {
            balanced = false
            context.logger.error(
                "input rows do not add up; the next run recomputes every customer",
                [("table", account.table), ("unaccounted", String(account.unaccounted))])
        }
        return balanced
    }
}
