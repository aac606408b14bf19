import Attentive
import Foundation
import ReferralStore

/// What a run did with bulk jobs: those earlier runs left in flight, and its own.
struct BulkProgress {
    var earlier = BulkTally()
    var thisRun = BulkTally()

    /// The summary's "Bulk jobs" section, or `nil` when the run neither collected nor submitted any.
    func summarySection(mode: RunConfiguration.Mode, dryRun: Bool) -> String? {
        guard (mode == .bulk && !dryRun) || !earlier.isEmpty else { return nil }
        var text = ""
        if !earlier.isEmpty { text += "- Left in flight by earlier runs: \(earlier.line)\n" }
        if mode == .bulk && !dryRun { text += "- Submitted by this run: \(thisRun.line)\n" }
        return text
    }
}

extension BulkJobCollector {
    /// At the start of every run (either mode): polls once each bulk job earlier runs left unresolved and applies
    /// the results of those that finished, so the comparison that follows sees an up-to-date ledger. Jobs still in
    /// progress stay in flight; their participants are not sent (``RunRecorder/recordHeld(_:by:)``).
    /// - Throws: `JobError` 77 when Attentive refuses the key, or the database error that stopped the writes.
    static func collectEarlierJobs(_ context: JobContext, client: AttentiveClient, store: BulkJobStore) async throws
        -> BulkTally
    {
        let (configuration, logger) = (context.configuration, context.logger)
        let jobs = try store.openJobs(collectableBy: configuration.shard)
        guard !jobs.isEmpty else { return BulkTally() }
        logger.info(
            "collecting bulk jobs left in flight", [("jobs", String(jobs.count)), ("oldest", jobs[0].since)])
        let collector = BulkJobCollector(
            client: client, store: store, concurrency: configuration.concurrency, stopSignal: context.stopSignal,
            logger: logger)
        let open = await collector.collect(jobs, until: ContinuousClock.now)
        if let error = collector.storeError { throw JobError(classifying: error) }
        if client.isHalted { throw JobError.unauthorized(keyRefusedWhilePolling) }
        logger.info(
            "bulk jobs collected",
            [
                ("completed", String(collector.tally.jobsCompleted)), ("failed", String(collector.tally.jobsFailed)),
                ("still_in_progress", String(open.count)),
            ])
        return collector.tally
    }
}
