import Attentive
import Postgres
import ReferralModel
import ReferralStore

/// The send stage of `events` (and of each pass of `events --follow`): the ledger's unsent events a chunk at a time,
/// fresh first, with the notes discovered again between chunks.
extension EventStages {
    /// Send: pulls the next chunk of the ledger's unsent events of this shard (``UnsentEvents``: fresh first), sends
    /// it, and repeats until none is left, each event at most once. Before each chunk, when event notes are waiting
    /// (rows committed since the run began), a discovery of the notes adds their events to the ledger and the next
    /// chunk takes the fresh ones first: a backfill delays a fresh invitation by at most one chunk, and holds one
    /// chunk of bodies at a time. A chunk shorter than a full one was the last the ledger held: the sending ends
    /// with it, without a last look at the notes, so the answers are recorded as soon as they come (a row committed
    /// meanwhile is sent by the next run, or the follower's next pass, which its notification wakes).
    /// - Parameters:
    ///   - report: Where each event's outcome (and each row a discovery between chunks lists) is written.
    ///   - discovery: What the run's discoveries found, to which the ones between chunks add.
    /// - Returns: Why the sending stopped early, if it did, and the event types Attentive refused although the key
    ///   works.
    func sendUnsent(report: EventsReport, discovery: inout EventDiscovery.Summary) async -> (
        JobError?, EventTypeOwnership.Refused
    ) {
        let none = EventTypeOwnership.Refused()
        let unsent: UnsentEvents
        var first: [UnsentEvent]
        do {
            unsent = try unsentEvents()
            first = try nextChunk(of: unsent, report: report, discovery: &discovery)
        } catch {
            return (JobError(classifying: error), none)
        }
        // Nothing to send: no client is started.
        guard !first.isEmpty else { return (nil, none) }
        let client = AttentiveClient(configuration: context.clientConfiguration())
        let sender = EventSender(
            client: client, report: report, writer: session.writer, runID: session.runID,
            stopSignal: context.stopSignal, concurrency: configuration.concurrency,
            progress: ProgressReporter(logger: context.logger, label: "events"), names: options.eventTypeNames,
            logger: context.logger, notOwned: notOwnedTypes,
            lockHeld: { [session] in (try? session.lock.query("SELECT 1")) != nil })
        let chunkSize = EventsOptions.chunkSize
        var previous = first.count
        let failure = await sender.run {
            guard first.isEmpty else {
                defer { first = [] }
                return first
            }
            guard previous >= chunkSize else { return [] }
            let chunk = try nextChunk(of: unsent, report: report, discovery: &discovery)
            previous = chunk.count
            return chunk
        }
        return (failure, sender.refusedTypes)
    }

    /// A dry run lists what would be sent: the ledger's unsent events of this shard, a chunk at a time, then the
    /// new ones its discovery finds (not written to the ledger), each as it is found; each body under the
    /// merchant's type names.
    /// - Returns: What the discovery saw, and the failure to read the ledger's unsent events, if it failed.
    /// - Throws: When discovery fails.
    func discoverAndListDryRun(report: EventsReport) throws -> (EventDiscovery.Summary, JobError?) {
        let names = options.eventTypeNames
        func list(_ event: UnsentEvent) { report.recordDryRun(event, body: names.body(of: event) ?? event.body) }
        var failure: JobError?
        do {
            let unsent = try unsentEvents()
            while case let chunk = try unsent.next(), !chunk.isEmpty { chunk.forEach(list) }
        } catch {
            failure = JobError(classifying: error)
        }
        let discovery = try EventDiscovery(
            context: context, session: session, options: options, report: report, listDryRun: list
        ).run()
        return (discovery, failure)
    }

    private func unsentEvents() throws -> UnsentEvents {
        try UnsentEvents(
            on: session.writer, shard: configuration.shard,
            freshSince: configuration.asOf.adding(seconds: -options.maxAgeHours * 3600),
            retryRefused: configuration.retryRefused, chunkSize: EventsOptions.chunkSize)
    }

    /// The next chunk, after a discovery of the notes waiting, if any. Without `--as-of` the notes are taken as of
    /// now: a row committed while the run sends is dated after the run's start, and would otherwise wait for the
    /// next run as `not_yet`.
    private func nextChunk(
        of unsent: UnsentEvents, report: EventsReport, discovery: inout EventDiscovery.Summary
    ) throws -> [UnsentEvent] {
        let asOf = configuration.asOfGiven ? configuration.asOf : Timestamp.now()
        if try EventLedger.notesWaiting(asOf: asOf, on: session.writer) {
            let found = try EventDiscovery(context: context, session: session, options: options, report: report)
                .run(notesAsOf: asOf)
            discovery.add(found)
            if found.newEvents > 0 { unsent.rereadFresh() }
        }
        return try unsent.next()
    }
}
