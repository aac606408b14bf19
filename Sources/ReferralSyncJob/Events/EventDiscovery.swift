import Attentive
import Postgres
import ReferralModel
import ReferralStore

/// Discover: takes the event notes due at the as-of (or, on the first run and with `--backfill`, the whole
/// history), derives their events with `sql/definitions/85_events.sql`, lists every row that cannot make its event
/// and every event too old to send, and adds the new events to the ledger as pending with their frozen bodies.
///
/// The notes are deleted in one transaction that commits last; new events are written to the ledger before it, on
/// the writer's connection. A crash in between leaves the notes, and the next run finds those events in the
/// ledger: nothing is lost and nothing is added twice.
struct EventDiscovery {
    let context: JobContext
    let session: Session
    let options: EventsOptions
    let report: EventsReport
    /// A dry run's lister of each new event this shard would send (not written to the ledger), called as the event
    /// is found: a backfill's dry run finds millions, which are listed, not held.
    var listDryRun: (UnsentEvent) -> Void = { _ in }

    /// What discovery saw besides the rows it listed.
    struct Summary {
        var firstRun = false
        var readEverything = false
        /// Rows noted since the last run (0 when the whole history was read).
        var notedRows = 0
        var newEvents = 0
        /// Rows whose event was delivered before: changed since, not sent again.
        var alreadyDelivered = 0
        /// Rows whose event is already in the ledger, not yet delivered (sent below, with its first body).
        var alreadyPending = 0
        /// Events dated after the as-of: noted again for their time.
        var notYet = 0
        /// New events whose properties had bidirectional or control characters, removed before sending.
        var textCleaned = 0
        /// First run without `--backfill`: the rows dated before the window, per table, counted, not read.
        var history: EventLedger.History?
        /// First run without `--backfill`: older events of rows in the window (an old order of a new
        /// referral), counted, not listed.
        var olderNotSent = 0

        /// Adds what another pass saw (a follower's period is many passes; a run's
        /// discoveries of the notes between chunks of its sending).
        mutating func add(_ other: Summary) {
            firstRun = firstRun || other.firstRun
            readEverything = readEverything || other.readEverything
            notedRows += other.notedRows
            newEvents += other.newEvents
            alreadyDelivered += other.alreadyDelivered
            alreadyPending += other.alreadyPending
            notYet += other.notYet
            textCleaned += other.textCleaned
            history = history ?? other.history
            olderNotSent += other.olderNotSent
        }
    }

    private var configuration: RunConfiguration { context.configuration }

    /// Discovers the events of the run's scope (the notes; the window of a first run; everything for
    /// `--backfill`).
    /// - Parameter notesAsOf: Only the notes due at this as-of, whatever the options: between chunks of a run's
    ///   sending, for the rows committed since it began (the run's as-of, or now when the run was not given one,
    ///   so a row committed with the time of its commit is not `not_yet`).
    func run(notesAsOf: Timestamp? = nil) throws -> Summary {
        let connection = session.lock
        let notesOnly = notesAsOf != nil
        let asOf = notesAsOf ?? configuration.asOf
        var summary = Summary()
        summary.firstRun = notesOnly ? false : try !EventLedger.hasRun(on: connection)
        summary.readEverything = !notesOnly && (summary.firstRun || options.backfill)
        let scope: EventLedger.Scope =
            notesOnly
            ? .notes
            : options.backfill
                ? .everything
                : summary.firstRun
                    ? .window(since: asOf.adding(seconds: -options.maxAgeHours * 3600)) : .notes
        let (keys, history) = try EventLedger.beginDiscovery(on: connection, asOf: asOf, scope: scope)
        summary.history = history
        summary.notedRows = keys.rows
        do {
            var batch: [EventLedger.NewEvent] = []
            var notes: [(source: String, key: String, at: String)] = []
            let skipHistory = summary.firstRun && !options.backfill
            if !keys.everything && keys.count == 0 {
                // A quiet run: nothing noted, nothing to derive.
            } else {
                try EventLedger.forEachCandidate(
                    on: connection, keys: keys, asOf: asOf, currency: session.currency,
                    phoneRegion: configuration.phoneRegion, maxAgeSeconds: options.maxAgeHours * 3600,
                    shardCount: configuration.shard.count
                ) { candidate in
                    if candidate.reason == "not_yet" {
                        notes.append((candidate.noteSource, candidate.noteKey, candidate.occurredAtRaw))
                        summary.notYet += 1
                    } else if candidate.reason == "forgotten" {
                        // Listed every time its row comes back, whatever the ledger holds: never silent.
                        report.recordSkipped(
                            candidate, id: Self.id(of: candidate, store: session.store), reason: "forgotten")
                    } else if let state = candidate.ledgerState {
                        if state == .delivered { summary.alreadyDelivered += 1 } else { summary.alreadyPending += 1 }
                    } else if skipHistory && candidate.tooOld {
                        summary.olderNotSent += 1
                    } else if let reason = candidate.reason {
                        report.recordSkipped(
                            candidate, id: Self.id(of: candidate, store: session.store), reason: reason)
                    } else if candidate.tooOld && !options.backfill {
                        report.recordTooOld(
                            candidate, id: Self.id(of: candidate, store: session.store),
                            maxAgeHours: options.maxAgeHours)
                    } else {
                        let event = Self.newEvent(candidate, store: session.store)
                        summary.newEvents += 1
                        if candidate.textCleaned { summary.textCleaned += 1 }
                        if configuration.dryRun {
                            // A dry run lists what this shard would send; a real run adds every shard's events.
                            if candidate.shardNumber == configuration.shard.number || configuration.shard == .all {
                                listDryRun(Self.unsent(event))
                            }
                        } else {
                            batch.append(event)
                            if batch.count >= 1000 {
                                try EventLedger.insertPending(batch, runID: session.runID, on: session.writer)
                                batch.removeAll(keepingCapacity: true)
                            }
                        }
                    }
                }
            }
            if configuration.dryRun {
                EventLedger.rollbackDiscovery(on: connection)
            } else {
                try EventLedger.insertPending(batch, runID: session.runID, on: session.writer)
                try EventLedger.noteAgain(notes, on: connection)
                if summary.readEverything {
                    try EventLedger.recordRun(
                        on: connection, asOf: configuration.asOf, runID: session.runID, backfill: options.backfill)
                }
                try EventLedger.commitDiscovery(on: connection)
            }
        } catch {
            EventLedger.rollbackDiscovery(on: connection)
            throw error
        }
        return summary
    }

    /// The event's `externalEventId` (none for a row that makes no event at all): the UUIDv5 of its key, with the
    /// store's name before it for any store but the default one, so two stores sharing an Attentive key never
    /// send one id for two events (README "Several stores").
    static func id(of candidate: EventCandidate, store: String) -> String? {
        candidate.type.isEmpty ? nil : EventID.uuid5(name: idName(candidate.key, store: store))
    }

    static func idName(_ key: String, store: String) -> String {
        store == StoreKeys.defaultStore ? key : store + "|" + key
    }

    /// A candidate as the ledger keeps it: its id and its request body, fixed from now on.
    static func newEvent(_ candidate: EventCandidate, store: String) -> EventLedger.NewEvent {
        let id = EventID.uuid5(name: idName(candidate.key, store: store))
        let body = CustomEventJSON.encode(
            CustomEvent(
                type: candidate.type, propertiesJSON: candidate.properties ?? "{}", externalEventID: id,
                occurredAt: candidate.occurredAt, user: AttentiveUser(email: candidate.email, phone: candidate.phone)))
        return EventLedger.NewEvent(candidate: candidate, id: id, body: body)
    }

    static func unsent(_ event: EventLedger.NewEvent) -> UnsentEvent {
        UnsentEvent(
            key: event.candidate.key, id: event.id, type: event.candidate.type, role: event.candidate.role,
            sourceRow: event.candidate.sourceRow, occurredAt: event.candidate.occurredAt, email: event.candidate.email,
            phone: event.candidate.phone, body: event.body, state: nil, attempts: 0, warning: event.candidate.warning)
    }
}
