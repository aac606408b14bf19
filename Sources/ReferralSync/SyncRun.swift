import Attentive
import Foundation
import Postgres
import ReferralModel
import ReferralStore
import Reports

/// How a run ended.
public struct RunResult: Sendable {
    public var status: ExitStatus
    public var runKey: String
    /// The published report folder, when one was written.
    public var reportFolder: String?
    public var counts: RunCounts
    /// One line for the user: what happened, and what to do if anything.
    public var message: String
    /// Seconds per stage, in order (for the metrics file).
    public var stageSeconds: [(String, Double)] = []
    /// Values still pending after the run, when they could be counted.
    public var pendingValues: Int? = nil
    /// How the recompute was brought up to date, when it was.
    public var refresh: StateRefresh? = nil
    /// Attribute values that differ in Attentive (`drift` only).
    public var driftRows: Int? = nil
}

/// The nightly job: read → recompute → compare → send → record → report.
public final class SyncRun: @unchecked Sendable {
    let configuration: RunConfiguration
    let logger: Logger
    let stopSignal: StopSignal
    /// The run's id, which names its report folder: sortable by time.
    public let runKey: String

    /// Advisory lock keys: a whole-participant run holds the base key exclusively; a shard holds it shared and
    /// its own shard key exclusively, so shards run side by side but never beside a whole run or themselves.
    static let baseLockKey: Int64 = 7_226_175_002_000

    public init(configuration: RunConfiguration, logger: Logger, stopSignal: StopSignal = StopSignal()) {
        self.configuration = configuration
        self.logger = logger
        self.stopSignal = stopSignal
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        runKey = Timestamp.now().compactString + "-" + String(repeating: "0", count: 8 - suffix.count) + suffix
    }

    /// Runs the job. Never throws: every failure becomes an exit status and a message.
    public func execute() async -> RunResult {
        let clock = ContinuousClock()
        let started = clock.now
        return await withRunSession(command: "run", dryRun: configuration.dryRun) { session, stages in
            let result = await syncAndReport(
                runID: session.runID, currency: session.currency, writer: session.writer, lock: session.lock,
                stages: &stages, started: started, clock: clock)
            return (result, Self.countsJSON(result.counts, refresh: result.refresh))
        }
    }

    /// What every command that reads the referral history holds while it works.
    struct RunSession {
        /// Holds the run lock; otherwise idle, so a stage may borrow it.
        var lock: PostgresConnection
        /// Writes the run history, the ledger and pending values.
        var writer: PostgresConnection
        var runID: Int64
        var currency: Currency
    }

    /// The prologue and epilogue `run` and `drift` share: take the lock, check the schema, resolve the currency,
    /// open the run-history row, run `body`, close the row, release the lock. Failures before `body` become an
    /// exit status and a message.
    /// - Parameter body: Does the command's work; returns its result and the counts to keep in the run history.
    func withRunSession(
        command: String, dryRun: Bool,
        _ body: (RunSession, inout StageTimer) async -> (RunResult, countsJSON: String)
    ) async -> RunResult {
        var stages = StageTimer()
        logger.context = [("run_id", runKey)]
        do {
            let lock = try connect()
            defer { lock.releaseAdvisoryLocksAndClose() }
            try takeLock(on: lock)
            try verifySchema(on: lock)
            let currency = try resolveCurrency(on: lock)
            stages.finish("validate")
            let writer = try connect()
            let runID = try RunHistory.begin(
                on: writer, runKey: runKey, command: command, arguments: configuration.argumentsForHistory,
                asOf: configuration.asOf, dryRun: dryRun)
            let session = RunSession(lock: lock, writer: writer, runID: runID, currency: currency)
            let (result, countsJSON) = await body(session, &stages)
            try? RunHistory.finish(
                on: writer, runID: runID, exitStatus: Int(result.status.rawValue), outcomeCounts: countsJSON,
                stageSeconds: stages.json, message: result.message)
            return result
        } catch {
            let jobError = Self.classify(error)
            logger.error(jobError.message, [("exit_status", jobError.status.description)])
            return RunResult(
                status: jobError.status, runKey: runKey, reportFolder: nil, counts: RunCounts(),
                message: jobError.description)
        }
    }

    // MARK: - Stages

    /// - Parameter lock: The connection holding the run lock, otherwise idle: the refresh runs on it.
    private func syncAndReport(
        runID: Int64, currency: Currency, writer: PostgresConnection, lock: PostgresConnection,
        stages: inout StageTimer, started: ContinuousClock.Instant, clock: ContinuousClock
    ) async -> RunResult {
        var refresh: StateRefresh?
        let parameters = recomputeParameters(currency: currency)
        var failure: JobError?
        var folder: ReportFolder?
        var recorder: RunRecorder?
        var pendingLine = "none"
        var pendingCount: Int?
        var bulk = BulkProgress()
        do {
            let reportFolder = try ReportFolder(root: configuration.reportsDirectory, runID: runKey)
            folder = reportFolder
            let ledger = configuration.dryRun ? nil : try LedgerWriter(connection: writer, runID: runID)
            let runRecorder = try RunRecorder(
                folder: reportFolder, ledger: ledger, currency: currency, dryRun: configuration.dryRun)
            recorder = runRecorder
            let client = configuration.dryRun ? nil : AttentiveClient(configuration: clientConfiguration())
            let bulkStore = configuration.dryRun ? nil : try BulkJobStore(connection: writer, runID: runID)
            if let client, let bulkStore {
                bulk.earlier = try await collectEarlierBulkJobs(client: client, store: bulkStore)
                if !bulk.earlier.isEmpty { stages.finish("collect_bulk_jobs") }
            }
            let inFlight = try BulkJobStore.inFlightParticipants(on: writer)
            // After the earlier bulk jobs are collected: the snapshot must see the ledger they updated.
            let snapshot = try refreshRecompute(parameters, on: lock, stages: &stages)
            defer { snapshot.release() }
            refresh = snapshot.refresh
            let reader = try connect()
            // AttributeQuery.openCursor checks that the snapshot's recompute is for these parameters.
            try ParticipantStateStore.importSnapshot(snapshot, on: reader)
            // The rejected rows and the row accounting run beside the attribute query, on the same snapshot, and
            // are waited for after it.
            let rejectedPass = try RejectedRowsPass(
                connection: try connect(), snapshot: snapshot, csvPath: reportFolder.path("rejected_rows.csv"))
            snapshot.release()
            logger.info(
                "recomputing attributes",
                [
                    ("as_of", configuration.asOf.description), ("currency", currency.code),
                    ("shard", configuration.shard.description),
                ])
            let interruption: JobError?
            do {
                let cursor = try AttributeQuery.openCursor(on: reader, parameters)
                if configuration.mode == .bulk, let client, let bulkStore {
                    let bulkSync = BulkSync(
                        configuration: configuration, client: client, store: bulkStore, recorder: runRecorder,
                        stopSignal: stopSignal, logger: logger, inFlight: inFlight, runID: runID)
                    interruption = await bulkSync.run(
                        cursor: cursor, progress: ProgressReporter(logger: logger, label: "participants"))
                    bulk.thisRun = bulkSync.tally
                } else {
                    interruption = await streamAndSend(
                        cursor: cursor, recorder: runRecorder, client: client, bulkInFlight: inFlight)
                }
                try? cursor.close()
            } catch {
                // The reader first: a refresh elsewhere may be waiting for it, and the pass for that refresh.
                try? reader.run("ROLLBACK")
                _ = await rejectedPass.finish()
                throw error
            }
            try? reader.run("ROLLBACK")
            reader.close()
            stages.finish("recompute_and_sync")
            let rejected = try await rejectedPass.finish().get()
            runRecorder.countRejected(rejected)
            if !accountForRows(rejected.accounts, recorder: runRecorder) {
                try ParticipantStateStore.requestFullRecompute(
                    on: writer, reason: "run \(runKey) found input rows that do not add up")
            }
            stages.record("rejected_rows", seconds: rejected.seconds)
            runRecorder.flushLedger()
            if let ledgerError = runRecorder.ledgerError {
                failure = Self.classify(ledgerError)
            } else if interruption == nil, configuration.shard == .all, !configuration.dryRun, let ledger {
                try ledger.forgetPendingNotSeen(since: runID)
            }
            if let interruption, failure == nil { failure = interruption }
            if let ledger {
                let pending = try ledger.pendingSummary()
                pendingCount = pending.count
                if pending.count > 0 { pendingLine = "\(pending.count) values, oldest since \(pending.oldest ?? "?")" }
            }
            stages.finish("record")
        } catch {
            failure = failure ?? ((error as? JobError) ?? Self.classify(error))
        }
        let counts = recorder?.counts ?? RunCounts()
        let status = failure?.status ?? (counts[.failed] > 0 ? .needsAttention : .success)
        let message =
            failure?.description
            ?? (counts[.failed] > 0
                ? "\(counts[.failed]) values failed and stay pending: see changes.csv; the next run retries them"
                : "done")
        var published: String?
        if let folder, let recorder {
            do {
                try recorder.close()
                let summary = RunSummary(
                    runKey: runKey, configuration: configuration, refresh: refresh, counts: counts, stages: stages,
                    duration: clock.now - started, status: status, message: message, pending: pendingLine,
                    bulkSection: bulk.summarySection(mode: configuration.mode, dryRun: configuration.dryRun))
                try writeTextFile(summary.markdown(), to: folder.path("summary.md"))
                try folder.publish()
                if configuration.keepReports > 0 { folder.prune(keep: configuration.keepReports) }
                published = folder.publishedPath
                stages.finish("report")
            } catch {
                logger.error("could not write the reports", [("error", "\(error)")])
            }
        }
        let level: Logger.Level = status == .success ? .info : .warning
        logger.log(
            level, "run finished",
            [
                ("exit_status", status.description), ("participants", String(counts.participants)),
                ("changed_participants", String(counts.changedParticipants)), ("synced", String(counts[.synced])),
                ("failed", String(counts[.failed])), ("skipped", String(counts[.skipped])),
                ("dry_run", String(counts[.dryRun])), ("rejected_rows", String(counts.rejectedRows)),
                ("reports", published ?? "none"),
            ])
        var result = RunResult(
            status: status, runKey: runKey, reportFolder: published, counts: counts, message: message)
        result.stageSeconds = stages.seconds
        result.pendingValues = pendingCount
        result.refresh = refresh
        return result
    }

    /// Streams participants from the cursor, writes each to the reports, and sends the changed ones with at most
    /// `concurrency` requests in flight. The task group never throws and no request is ever cancelled (cancelling
    /// a task awaiting URLSession on Linux can deadlock, swift-corelibs-foundation #5412): a stop request only
    /// stops new requests from starting.
    /// - Returns: Why the run stopped early, if it did.
    private func streamAndSend(
        cursor: ParticipantCursor, recorder: RunRecorder, client: AttentiveClient?,
        bulkInFlight: [String: InFlightRecord]
    ) async -> JobError? {
        var interruption: JobError?
        var unauthorized: String?
        var lastUnanswered: String?
        let progress = ProgressReporter(logger: logger, label: "participants")

        func handle(_ delivery: Delivery) {
            let participant = delivery.participant
            switch delivery.outcome {
            case .accepted(let status, let attempts):
                recorder.recordOutcome(participant, .synced, httpStatus: status, attempts: attempts)
            case .rejected(let status, let message, let attempts):
                recorder.recordOutcome(participant, .failed, httpStatus: status, error: message, attempts: attempts)
            case .gaveUp(let status, let message, let attempts):
                if status == nil { lastUnanswered = message }
                recorder.recordOutcome(participant, .failed, httpStatus: status, error: message, attempts: attempts)
            case .unauthorized(let status, let message):
                unauthorized = unauthorized ?? "Attentive answered \(status): \(message)"
                recorder.recordOutcome(participant, .failed, httpStatus: status, error: message, attempts: 1)
            case .notSent(let reason):
                recorder.recordOutcome(participant, .failed, error: "not sent: \(reason)")
            }
        }

        await withTaskGroup(of: Delivery.self) { group in
            var inFlight = 0
            while true {
                let next: ParticipantState?
                do {
                    next = try cursor.next()
                } catch {
                    interruption = Self.classify(error)
                    break
                }
                guard let participant = next else { break }
                recorder.recordParticipant(participant)
                progress.tick(recorder.counts.participants, "requests \(recorder.counts.requestsSent)")
                guard !participant.changedAttributes.isEmpty else { continue }
                if let reason = participant.unsendableReason {
                    recorder.recordOutcome(participant, .skipped, error: reason)
                    continue
                }
                if let held = bulkInFlight[participant.customerID] {
                    recorder.recordHeld(participant, by: held)
                    continue
                }
                let update = AttributeUpdate(
                    user: AttentiveUser(email: participant.identity.email, phone: participant.identity.phone),
                    properties: participant.changedProperties)
                guard let client else {
                    recorder.recordOutcome(participant, .dryRun)
                    recorder.recordDryRunRequest(Self.requestJSON(update))
                    continue
                }
                if let reason = notSendingReason(unauthorized: unauthorized, ledgerError: recorder.ledgerError) {
                    recorder.recordOutcome(participant, .failed, error: "not sent: \(reason)")
                    continue
                }
                if inFlight >= configuration.concurrency, let delivery = await group.next() {
                    inFlight -= 1
                    handle(delivery)
                }
                recorder.countRequest()
                group.addTask { Delivery(participant: participant, outcome: await client.sendCustomAttributes(update)) }
                inFlight += 1
            }
            if stopSignal.stopRequest != nil { client?.beginShutdown() }
            while let delivery = await group.next() { handle(delivery) }
        }
        progress.finish(recorder.counts.participants, "requests \(recorder.counts.requestsSent)")
        if let signal = stopSignal.stopRequest { return JobError.stopped(by: signal) }
        if let unauthorized { return JobError.unauthorized(unauthorized) }
        if let client,
            let unreachable = AttentiveReachability.unreachable(client.statistics(), lastError: lastUnanswered)
        {
            return unreachable
        }
        return interruption
    }

    /// Why no new request should start, if one should not.
    private func notSendingReason(unauthorized: String?, ledgerError: Error?) -> String? {
        if let signal = stopSignal.stopRequest { return "the run was stopped by signal \(signal)" }
        if unauthorized != nil { return "Attentive refused the API key earlier in this run" }
        if ledgerError != nil { return "the ledger could not be written, so accepted values could not be recorded" }
        return nil
    }

    // MARK: - Set-up

    /// Brings the kept recompute up to date on `lock` and exports a snapshot of it for the readers; the caller
    /// releases it once they have imported it.
    func refreshRecompute(_ parameters: RecomputeParameters, on lock: PostgresConnection, stages: inout StageTimer)
        throws -> ExportedSnapshot
    {
        let snapshot = try ParticipantStateStore.refreshAndExportSnapshot(
            on: lock, parameters, full: configuration.fullRecompute)
        let refresh = snapshot.refresh
        logger.info(
            "recompute brought up to date",
            [
                ("mode", refresh.mode.rawValue), ("reason", refresh.reason ?? "-"),
                ("recomputed", String(refresh.recomputed)),
            ])
        stages.finish("refresh")
        return snapshot
    }

    /// What the recompute is for: this run's as-of, currency, shard and phone region.
    func recomputeParameters(currency: Currency) -> RecomputeParameters {
        RecomputeParameters(
            asOf: configuration.asOf, currency: currency, shard: configuration.shard,
            phoneRegion: configuration.phoneRegion)
    }

    func connect() throws -> PostgresConnection {
        do {
            return try PostgresConnection(conninfo: configuration.databaseURL)
        } catch let error as PostgresError where configuration.databaseURLIsUnset && error.code == .connectionFailed {
            throw JobError(
                .configuration,
                "DATABASE_URL is not set (nor any PG* variable), and libpq's defaults did not work: \(error.message)",
                remedy: "Set DATABASE_URL to postgresql://user@host:port/dbname or a conninfo such as "
                    + "'host=db.internal dbname=shop user=sync'.")
        }
    }

    func takeLock(on connection: PostgresConnection) throws {
        let shard = configuration.shard
        let acquired: Bool
        if shard == .all {
            acquired = try connection.tryAdvisoryLock(Self.baseLockKey)
        } else {
            acquired =
                try connection.tryAdvisoryLock(Self.baseLockKey, shared: true)
                && connection.tryAdvisoryLock(Self.baseLockKey + Int64(shard.count) * 10_000 + Int64(shard.number))
        }
        guard acquired else {
            throw JobError(
                .locked, "another referral-sync run holds the lock for shard \(shard)",
                remedy: "Let it finish; the scheduler should try again later (exit 75).")
        }
    }

    func verifySchema(on connection: PostgresConnection) throws {
        do {
            try Migrations.verify(on: connection)
        } catch let error as SchemaError {
            throw JobError(.configuration, "\(error)", remedy: "The schema must match this referral-sync version.")
        }
    }

    func resolveCurrency(on connection: PostgresConnection) throws -> Currency {
        if let currency = configuration.currency { return currency }
        let present = try currenciesInOrders(on: connection)
        if present.count == 1, let only = present.first, let currency = Currency(code: only) { return currency }
        if present.isEmpty, let usd = Currency(code: "USD") {
            logger.warning("referral_orders is empty and no shop currency is set; formatting revenue as USD")
            return usd
        }
        throw JobError(
            .configuration,
            "REFERRAL_SHOP_CURRENCY is not set and referral_orders holds \(present.joined(separator: ", "))",
            remedy: "Set REFERRAL_SHOP_CURRENCY (or --currency) to the shop's currency.")
    }

    func clientConfiguration() -> AttentiveClientConfiguration {
        var client = AttentiveClientConfiguration(baseURL: configuration.attentiveBaseURL, apiKey: configuration.apiKey)
        client.maxRequestsPerSecond = configuration.maxRequestsPerSecond
        client.requestTimeout = .milliseconds(Int64(configuration.requestTimeoutSeconds * 1000))
        client.maxConnections = max(configuration.concurrency, 1)
        client.retry.maxAttempts = configuration.maxAttempts
        client.maxBulkRequestsPerSecond = min(configuration.maxRequestsPerSecond, 100)
        client.retry.maxTotalRetryTime = .milliseconds(Int64(configuration.retryBudgetSeconds * 1000))
        return client
    }

    // MARK: - Helpers

    /// Maps a database or other error to an exit status and a remedy.
    static func classify(_ error: Error) -> JobError {
        if let error = error as? JobError { return error }
        if let error = error as? PostgresError {
            if error.isAuthenticationFailure {
                return JobError(
                    .configuration, "PostgreSQL refused the credentials: \(error.message)",
                    remedy: "Check the user and password in DATABASE_URL or PGUSER/PGPASSWORD.")
            }
            if error.code == .connectionFailed, error.message.contains("invalid") || error.message.contains("missing") {
                return JobError(
                    .configuration, "DATABASE_URL cannot be used: \(error.message)",
                    remedy: "Set DATABASE_URL to a libpq conninfo or a postgresql://user@host:port/dbname URI.")
            }
            if error.isConnectionProblem {
                return JobError(
                    .unavailable, "PostgreSQL is unreachable: \(error.message)",
                    remedy: "Check that the server is up and DATABASE_URL points at it; the next run resumes safely.")
            }
            if let unusable = JobError.unusableInput(error) { return unusable }
            return JobError(
                .dataError, "a database statement failed: \(error)",
                remedy: "Check the input tables against the README; run `referral-sync migrate` if the schema is old.")
        }
        if let error = error as? ReportError {
            return JobError(.configuration, "\(error)", remedy: "Check --reports-dir: it must be a writable folder.")
        }
        return JobError(.dataError, "\(error)", remedy: "See the log above.")
    }

    static func countsJSON(_ counts: RunCounts, refresh: StateRefresh?) -> String {
        var fields = [
            "\"participants\":\(counts.participants)", "\"changed_participants\":\(counts.changedParticipants)",
            "\"requests\":\(counts.requestsSent)", "\"rejected_rows\":\(counts.rejectedRows)",
        ]
        if let refresh {
            fields += [
                "\"recompute\":\"\(refresh.mode.rawValue)\"", "\"recomputed_customers\":\(refresh.recomputed)",
            ]
        }
        for outcome in SyncOutcome.allCases { fields.append("\"\(outcome.rawValue)\":\(counts[outcome])") }
        return "{" + fields.joined(separator: ",") + "}"
    }

    static func requestJSON(_ update: AttributeUpdate) -> String { DryRunRequestJSON.encode(update) }
}

/// A participant's request and Attentive's answer.
struct Delivery: Sendable {
    var participant: ParticipantState
    var outcome: DeliveryOutcome
}

/// Wall time per stage, for the summary and the run history.
struct StageTimer {
    private let clock = ContinuousClock()
    private var last: ContinuousClock.Instant
    private(set) var seconds: [(String, Double)] = []

    init() { last = clock.now }

    /// Records a stage that ran beside the others (its seconds overlap theirs).
    mutating func record(_ stage: String, seconds: Double) {
        self.seconds.append((stage, seconds))
    }

    mutating func finish(_ stage: String) {
        let now = clock.now
        let elapsed = now - last
        seconds.append((stage, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
        last = now
    }

    var json: String {
        "{" + seconds.map { "\"\($0.0)\":\(String(format: "%.3f", $0.1))" }.joined(separator: ",") + "}"
    }
}
