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
            let (result, counts) = await compareAndReport(
                options, currency: session.currency, lock: session.lock, writer: session.writer, store: session.store,
                stages: &stages)
            return (result, DriftCounts.historyJSON(counts))
        }
    }

    private func compareAndReport(
        _ options: DriftOptions, currency: Currency, lock: PostgresConnection, writer: PostgresConnection,
        store: String, stages: inout StageTimer
    ) async -> (RunResult, DriftCounts) {
        let parameters = context.recomputeParameters(currency: currency)
        var failure: JobError?
        var folder: ReportFolder?
        var recorder: DriftRecorder?
        do {
            let reportFolder = try ReportFolder(root: configuration.reportsDirectory, runID: runKey)
            folder = reportFolder
            let driftRecorder = try DriftRecorder(folder: reportFolder)
            recorder = driftRecorder
            let snapshot = try RefreshStage.refresh(context, parameters, on: lock, stages: &stages)
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
        let status: ExitStatus
        let message: String
        if let failure {
            (status, message) = (failure.status, failure.description)
        } else if counts.driftRows > 0 || counts.requestErrors > 0 {
            status = .needsAttention
            var parts: [String] = []
            if counts.driftRows > 0 { parts.append("\(counts.driftRows) values differ in Attentive (see drift.csv)") }
            if counts.requestErrors > 0 {
                parts.append(
                    "\(counts.requestErrors) participants could not be read from Attentive (see unchecked.csv)")
            }
            message = parts.joined(separator: "; ") + ": summary.md says what to do for each kind"
        } else {
            (status, message) = (.success, "no drift: Attentive holds every expected value")
        }
        var published: String?
        if let folder, let recorder {
            do {
                try recorder.close()
                let summary = DriftSummary(
                    runKey: runKey, configuration: configuration, sample: options.sample, repair: options.repair,
                    counts: counts, stages: stages, status: status, message: message, store: store)
                published = try ReportStage.publish(
                    folder, summary: summary.markdown(), keep: configuration.keepReports)
                stages.finish("report")
            } catch {
                logger.error("could not write the reports", [("error", "\(error)")])
            }
        }
        logger.log(
            status == .success ? .info : .warning, "drift check finished",
            [
                ("exit_status", status.description), ("participants", String(counts.participants)),
                ("checked", String(counts.checked)), ("drift_rows", String(counts.driftRows)),
                ("unchecked", String(counts.unchecked)), ("reports", published ?? "none"),
            ])
        var runCounts = RunCounts()
        runCounts.participants = counts.participants
        var result = RunResult(
            status: status, runKey: runKey, reportFolder: published, counts: runCounts, message: message)
        result.stageSeconds = stages.seconds
        result.driftRows = counts.driftRows
        return (result, counts)
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

extension DriftCounts {
    /// The counts kept in the run history's `outcome_counts`.
    static func historyJSON(_ counts: DriftCounts) -> String {
        var fields = [
            "\"participants\":\(counts.participants)", "\"checked\":\(counts.checked)",
            "\"unchecked\":\(counts.unchecked)", "\"drift_rows\":\(counts.driftRows)",
            "\"repaired\":\(counts.repaired)",
        ]
        for kind in DriftKind.allCases { fields.append("\"\(kind.rawValue)\":\(counts[kind])") }
        return "{" + fields.joined(separator: ",") + "}"
    }
}
