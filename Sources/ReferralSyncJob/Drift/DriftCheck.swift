import Attentive
import Foundation
import Postgres
import ReferralModel
import ReferralStore
import Reports

/// What `referral-sync drift` checks, beyond the run's configuration.
public struct DriftOptions: Sendable, Equatable {
    /// Check at most this many participants (a deterministic sample); `nil` checks everyone.
    public var sample: Int?
    /// Forget the ledger entries of participants whose drift the next run would not correct, so it sends them.
    public var repair: Bool
    public init(sample: Int? = nil, repair: Bool = false) {
        self.sample = sample
        self.repair = repair
    }
}

/// `referral-sync drift`: the session of `run` with other stages: refresh → read → read Attentive back and
/// compare → (repair) → report.
struct DriftCheck {
    let context: JobContext
    let options: DriftOptions
    var configuration: RunConfiguration { context.configuration }
    var logger: Logger { context.logger }
    var stopSignal: StopSignal { context.stopSignal }
    var runKey: String { context.runKey }

    /// `referral-sync drift`: under the same lock as `run`, recomputes the truth (same SQL, as of `--as-of` or
    /// now), reads each participant's custom attributes from Attentive, compares the four values and writes
    /// `drift.csv`, `unchecked.csv` and `summary.md`. Sends nothing. Never throws.
    /// - Returns: Exit 0 when Attentive holds every expected value, 1 when drift was found or a participant could
    ///   not be checked, and the usual statuses for a lock held (75), an unreachable service (69) or a refused key (77).
    func execute() async -> RunResult {
        await Session.open(context, command: "drift", dryRun: false) { session, stages in
            await compare(
                options, currency: session.currency, lock: session.lock, writer: session.writer, stages: &stages)
        }
    }

    private func compare(
        _ options: DriftOptions, currency: Currency, lock: PostgresConnection, writer: PostgresConnection,
        stages: inout StageTimer
    ) async -> CommandEnding {
        let parameters = context.recomputeParameters(currency: currency)
        var failure: JobError?
        var folder: ReportFolder?
        var recorder: DriftRecorder?
        do {
            let reportFolder = try ReportFolder(root: configuration.reportsDirectory, runID: runKey)
            folder = reportFolder
            let driftRecorder = try DriftRecorder(folder: reportFolder)
            recorder = driftRecorder
            let snapshot = try RefreshStage.refresh(context, parameters, on: lock, stages: &stages, countRows: false)
            defer { snapshot.release() }
            let reader = try context.connect()
            try ParticipantStateStore.importSnapshot(snapshot, on: reader)
            snapshot.release()
            logger.info(
                "checking drift",
                [
                    ("as_of", configuration.asOf.description), ("sample", options.sample.map(String.init) ?? "all"),
                    ("shard", configuration.shard.description),
                ])
            let cursor: ParticipantCursor
            if let size = options.sample {
                cursor = try AttributeQuery.openSampleCursor(
                    on: reader, parameters, size: size, seed: String(configuration.asOf.millisecondString.prefix(10)))
            } else {
                cursor = try AttributeQuery.openCursor(on: reader, parameters)
            }
            failure = await readAndCompare(cursor: cursor, recorder: driftRecorder, expectedCount: options.sample)
            try? reader.run("ROLLBACK")
            reader.close()
            stages.finish("recompute_and_compare")
            if options.repair, failure == nil {
                let forgotten = try forgetLedgerEntries(driftRecorder.customersToRepair, on: writer)
                driftRecorder.recordRepaired(forgotten)
                stages.finish("repair")
            }
        } catch {
            failure = failure ?? JobError(classifying: error)
        }
        let counts = recorder?.counts ?? DriftCounts()
        var ending = counts.ending(failure: failure)
        if let folder, let recorder {
            ending.report = CommandReport(
                folder: folder, close: { try recorder.close() },
                summary: {
                    DriftSummary(end: $0, sample: options.sample, repair: options.repair, counts: counts).markdown()
                })
        }
        return ending
    }

    /// Deletes the ledger rows of `customers`, so the next run treats them as new and sends every value.
    private func forgetLedgerEntries(_ customers: [String], on writer: PostgresConnection) throws -> Int {
        guard !customers.isEmpty else { return 0 }
        return try writer.transaction {
            try customers.reduce(0) {
                $0 + (try writer.execute("DELETE FROM referral_sync_ledger WHERE customer_id = $1", [$1]))
            }
        }
    }
}
