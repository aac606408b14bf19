import Foundation
import Postgres
import ReferralModel
import ReferralStore

/// What every command that reads the referral history holds while it works: the run lock, a connection for the
/// run history and the ledger, the run-history row and the shop currency.
/// ``open(_:command:dryRun:lock:metricsIfNotOpened:body:)`` is the one prologue and epilogue every such command
/// shares.
struct Session {
    /// Holds the run lock; otherwise idle, so a stage may borrow it (the refresh runs on it).
    let lock: PostgresConnection
    /// Writes the run history, the ledger and pending values.
    let writer: PostgresConnection
    /// The run-history row of this run.
    let runID: Int64
    let currency: Currency
    /// The store (schema) the run works in (README "Several stores").
    let store: String

    /// Takes the lock, checks the schema, resolves the currency, opens the run-history row, runs `body`, then ends
    /// the command the one way every command ends (``CommandEnd``) and releases the lock. Failures before `body`
    /// become an exit status and a message.
    /// - Parameters:
    ///   - command: Its name in the run history and the metrics' `command` label.
    ///   - metricsIfNotOpened: The command's metric families with nothing counted, written when the session cannot
    ///     open (`run` writes its counters unchanged, so they keep adding up).
    ///   - body: Does the command's work; returns how it ended.
    static func open(
        _ context: JobContext, command: String, dryRun: Bool, lock lockKind: RunLock.Kind = .run,
        metricsIfNotOpened: [MetricFamily] = [],
        body: (Session, inout StageTimer) async -> CommandEnding
    ) async -> RunResult {
        let end = CommandEnd(context: context, command: command, started: ContinuousClock.now)
        var stages = StageTimer()
        let configuration = context.configuration
        // The store named on the command line is in every line from the start (a store found through the
        // connection's search_path once it is known).
        context.labelLogs(store: configuration.schema)
        do {
            let lock = try context.connect()
            defer { lock.releaseAdvisoryLocksAndClose() }
            let store = try Self.store(on: lock, configured: configuration.schema)
            if store != StoreKeys.defaultStore { context.labelLogs(store: store) }
            try RunLock.take(on: lock, shard: configuration.shard, kind: lockKind, store: store)
            let watch = try LockWatch(
                lockBackend: Int32(try lock.query("SELECT pg_backend_pid()").first?.int(0) ?? 0),
                connection: context.connect(), stopSignal: context.stopSignal, logger: context.logger)
            defer { watch.stop() }
            try Migrations.verify(on: lock)
            let currency = try resolveCurrency(configuration.currency, on: lock, logger: context.logger)
            stages.finish("validate")
            return try await run(
                context, command: command, dryRun: dryRun, heldLock: lock, store: store, currency: currency, end: end,
                stages: &stages, body: body)
        } catch {
            return end.notOpened(error, metricFamilies: metricsIfNotOpened)
        }
    }

    /// The session's part once the lock is held and the schema checked: the writer's connection and the run-history
    /// row, then `body`, then the command's end. `events --follow` calls it once per report period, under the lock
    /// it keeps.
    /// - Throws: When the writer cannot connect or the run-history row cannot be opened (nothing was done).
    static func run(
        _ context: JobContext, command: String, dryRun: Bool, heldLock lock: PostgresConnection, store: String,
        currency: Currency, end: CommandEnd, stages: inout StageTimer,
        body: (Session, inout StageTimer) async -> CommandEnding
    ) async throws -> RunResult {
        let writer = try context.connect()
        defer { writer.close() }
        let runID = try RunHistory.begin(
            on: writer, runKey: context.runKey, command: command,
            arguments: context.configuration.argumentsForHistory, asOf: context.configuration.asOf, dryRun: dryRun)
        let session = Session(lock: lock, writer: writer, runID: runID, currency: currency, store: store)
        let ending = await body(session, &stages)
        return end.end(ending, session: session, stages: &stages)
    }

    /// The store the connection works in.
    /// - Throws: `JobError` 78 when its `search_path` names no schema that exists (a `--schema` not yet created).
    static func store(on connection: PostgresConnection, configured: String?) throws -> String {
        if let store = try StoreKeys.currentStore(on: connection) { return store }
        let name = configured ?? "of the connection's search_path"
        throw JobError(
            .configuration, "the schema \(name) does not exist in this database",
            remedy: "Create the store with `referral-sync migrate --schema \(configured ?? "NAME") --create-schema`, "
                + "or fix --schema / REFERRAL_SYNC_SCHEMA.")
    }

    /// The shop currency: the configured one, or the only one `referral_orders` holds (USD when it is empty).
    /// - Throws: `JobError` 78 when none is configured and the orders hold several.
    static func resolveCurrency(_ configured: Currency?, on connection: PostgresConnection, logger: Logger) throws
        -> Currency
    {
        if let configured { return configured }
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
}

/// The run lock: a whole-participant run holds the base key exclusively; a shard holds it shared and its own
/// shard key exclusively, so shards run side by side but never beside a whole run or themselves. `run` and
/// `drift` share one set of keys; `events` has its own, so it runs beside a nightly `run` but never beside itself.
/// The keys are ``StoreKeys``'.
enum RunLock {
    /// Whose keys: the attribute commands' or the events command's.
    enum Kind {
        case run, events

        var lock: StoreKeys.Lock {
            switch self {
            case .run: .run
            case .events: .events
            }
        }
    }

    /// Takes the lock for `shard` without waiting.
    /// - Returns: Whether this connection now holds it (`false`: another run does; nothing is held).
    static func tryTake(on connection: PostgresConnection, shard: Shard, kind: Kind, store: String) throws -> Bool {
        let baseKey = StoreKeys.key(kind.lock, store: store)
        guard let shardKey = StoreKeys.shardKey(kind.lock, shard: shard, store: store) else {
            return try connection.tryAdvisoryLock(baseKey)
        }
        guard try connection.tryAdvisoryLock(baseKey, shared: true) else { return false }
        if try connection.tryAdvisoryLock(shardKey) { return true }
        // The shared base key alone would keep a whole run out while this one only waits: let it go.
        try connection.execute("SELECT pg_advisory_unlock_shared($1::bigint)", [String(baseKey)])
        return false
    }

    /// Takes the lock for `shard` without waiting.
    /// - Throws: `JobError` 75 when another run holds it.
    static func take(
        on connection: PostgresConnection, shard: Shard, kind: Kind = .run, store: String = StoreKeys.defaultStore
    ) throws {
        guard try tryTake(on: connection, shard: shard, kind: kind, store: store) else {
            throw JobError(
                .locked,
                "another referral-sync \(kind == .events ? "events" : "run") holds the lock for shard \(shard)",
                remedy: "Let it finish; the scheduler should try again later (exit 75).")
        }
    }
}
