import Attentive
import Foundation
import Postgres
import ReferralModel
import ReferralStore
import Reports

/// The stages of one `run`, in order. What a stage produces is what the next one takes.
struct SyncStages {
    let context: JobContext
    let session: Session
    var configuration: RunConfiguration { context.configuration }

    /// What the record and report stages say, gathered as the stages go.
    struct Outcome {
        var failure: JobError?
        var refresh: StateRefresh?
        var pendingCount: Int?
        var pendingLine = "none"
        /// Refusals standing after the run (`refused.csv`); `nil` when they could not be listed.
        var refusedStanding: Int?
        var bulk = BulkProgress()
    }

    /// Where the run writes what it did: the report folder, its recorder and (unless a dry run) the ledger.
    struct Outputs {
        let folder: ReportFolder
        let recorder: RunRecorder
        let ledger: LedgerWriter?
    }

    func run(stages: inout StageTimer) async -> CommandEnding {
        var outcome = Outcome()
        var outputs: Outputs?
        do {
            let opened = try openOutputs()
            outputs = opened
            let sending = try await prepareSending(stages: &stages, outcome: &outcome)
            let reading = try await ReadStage.open(
                context, parameters: parameters, on: session.lock, stages: &stages,
                rejectedRowsCSV: opened.folder.path("rejected_rows.csv"),
                warningsCSV: opened.folder.path("warnings.csv"), attributesCSV: opened.folder.path("attributes.csv"))
            outcome.refresh = reading.refresh
            if !configuration.dryRun { try EventLedger.pruneNotesIfEventsNeverRan(on: session.writer) }
            let interruption = await send(reading, sending, to: opened, outcome: &outcome)
            stages.finish("recompute_and_sync")
            try await RecordStage(context: context, session: session).finish(
                reading.rejectedRows, attributesFile: reading.attributesFile, outputs: opened,
                interruption: interruption, outcome: &outcome,
                stages: &stages)
        } catch {
            outcome.failure = outcome.failure ?? JobError(classifying: error)
        }
        return ReportStage(context: context).ending(outputs, outcome: outcome)
    }

    var parameters: RecomputeParameters { context.recomputeParameters(currency: session.currency) }

    private func openOutputs() throws -> Outputs {
        let folder = try ReportFolder(root: configuration.reportsDirectory, runID: context.runKey)
        let ledger = configuration.dryRun ? nil : try LedgerWriter(connection: session.writer, runID: session.runID)
        let recorder = try RunRecorder(
            folder: folder, ledger: ledger, currency: session.currency, dryRun: configuration.dryRun)
        return Outputs(folder: folder, recorder: recorder, ledger: ledger)
    }

    /// The client and bulk store (none in a dry run), after collecting the bulk jobs earlier runs left in flight,
    /// and the participants those still hold.
    private struct Sending {
        var client: AttentiveClient?
        var bulkStore: BulkJobStore?
        var inFlight: [String: InFlightRecord]
    }

    private func prepareSending(stages: inout StageTimer, outcome: inout Outcome) async throws -> Sending {
        let client = configuration.dryRun ? nil : AttentiveClient(configuration: context.clientConfiguration())
        let bulkStore =
            configuration.dryRun ? nil : try BulkJobStore(connection: session.writer, runID: session.runID)
        if let client, let bulkStore {
            outcome.bulk.earlier = try await BulkJobCollector.collectEarlierJobs(
                context, client: client, store: bulkStore)
            if !outcome.bulk.earlier.isEmpty { stages.finish("collect_bulk_jobs") }
        }
        // After the earlier bulk jobs are collected: the refresh's snapshot must see the ledger they updated.
        let inFlight = try BulkJobStore.inFlightParticipants(on: session.writer)
        return Sending(client: client, bulkStore: bulkStore, inFlight: inFlight)
    }

    /// Streams the participants to the sender of the run's mode.
    /// - Returns: Why the run stopped early, if it did.
    private func send(
        _ reading: ReadStage, _ sending: Sending, to outputs: Outputs, outcome: inout Outcome
    ) async -> JobError? {
        let loop = ParticipantLoop(
            recorder: outputs.recorder,
            progress: ProgressReporter(logger: context.logger, label: "changed participants"),
            inFlight: sending.inFlight, unit: configuration.mode == .bulk ? "bulk jobs" : "requests")
        defer { reading.close() }
        guard let client = sending.client else {
            return await DryRunSender.run(loop, cursor: reading.cursor, recorder: outputs.recorder)
        }
        if configuration.mode == .bulk, let store = sending.bulkStore {
            let sender = BulkSender(
                configuration: configuration, client: client, store: store, recorder: outputs.recorder,
                stopSignal: context.stopSignal, logger: context.logger, runID: session.runID)
            let interruption = await sender.run(loop, cursor: reading.cursor)
            outcome.bulk.thisRun = sender.tally
            return interruption
        }
        let sender = V1Sender(
            client: client, recorder: outputs.recorder, stopSignal: context.stopSignal,
            concurrency: configuration.concurrency)
        return await sender.run(loop, cursor: reading.cursor)
    }
}
