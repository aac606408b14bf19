import Foundation
import Options
import Postgres
import ReferralModel
import ReferralStore
import Reports

/// Which stores `revenue --schemas` or `--all-schemas` reports together (README "Finance": one report across
/// stores).
public enum StoreSelection: Sendable, Equatable {
    /// `--schemas eu,us`: these, in this order.
    case named([String])
    /// `--all-schemas`: every schema with referral-sync's tables (its migrations table), by name.
    case all
}

/// One store's figures in a consolidated report, read in the report's one snapshot.
struct StoreRevenue {
    var store: String
    var currency: Currency
    var periods: [PostgresRow]
    var totals: PostgresRow
    var reconciliation: PostgresRow
    var refresh: StateRefresh

    var problems: [String] {
        RevenueFigures.problems(totals: totals, reconciliation: reconciliation).map { "store \(store): \($0)" }
    }
}

/// `referral-sync revenue --schemas eu,us` / `--all-schemas`: each store's periods side by side and a consolidated
/// table per currency (never converted), with each store's reconciliation. The session (its run-history row,
/// its lock, the report folder) is the first store's; every other store's run lock is taken without waiting (exit
/// 75 when its nightly `run` holds it, as a single-store report does); each store is refreshed under its own
/// refresh lock (waiting for a refresh under way: it is one transaction, never seen half done), and every lock is
/// held until the one reader has imported the snapshot exported after the last refresh, in which every store's
/// figures are read.
struct ConsolidatedRevenue {
    let context: JobContext
    let options: RevenueOptions
    let session: Session
    let stores: [String]

    /// Resolves the stores, then runs the report in a session of the first.
    static func execute(_ context: JobContext, options: RevenueOptions, selection: StoreSelection) async -> RunResult {
        let stores: [String]
        do {
            stores = try resolve(selection, context)
        } catch {
            let failure = JobError(classifying: error)
            return RunResult(
                status: failure.status, runKey: context.runKey, reportFolder: nil, counts: RunCounts(),
                message: failure.description)
        }
        let first = context.store(stores[0])
        return await Session.open(first, command: "revenue", dryRun: false) { session, stages in
            ConsolidatedRevenue(context: first, options: options, session: session, stores: stores).run(
                stages: &stages)
        }
    }

    private static func resolve(_ selection: StoreSelection, _ context: JobContext) throws -> [String] {
        switch selection {
        case .named(let stores): return stores
        case .all:
            let connection = try context.connect()
            defer { connection.close() }
            let stores = try connection.query(
                """
                SELECT table_schema FROM information_schema.tables
                WHERE table_name = 'referral_sync_schema_migrations' ORDER BY table_schema
                """
            ).compactMap { $0[0] }
            guard !stores.isEmpty else {
                throw JobError(
                    .configuration, "--all-schemas: no schema of this database has referral-sync's tables",
                    remedy: "Run `referral-sync migrate --schema NAME` for each store first.")
            }
            return stores
        }
    }

    func run(stages: inout StageTimer) -> CommandEnding {
        var failure: JobError?
        var read: [StoreRevenue] = []
        var report: CommandReport?
        do {
            try RevenueReport(context: context, options: options, session: session).checkTimeZone()
            let folder = try ReportFolder(root: context.configuration.reportsDirectory, runID: context.runKey)
            read = try readStores(stages: &stages)
            let files = ConsolidatedFiles(stores: read, options: options, folder: folder)
            let consolidated = try files.consolidate(on: session.writer)
            report = CommandReport(
                folder: folder, summaryFile: RevenueFiles.markdownFile, close: { try files.write(consolidated) },
                summary: { end in files.markdown(consolidated, end: end) }, isTheProduct: true)
        } catch {
            failure = JobError(classifying: error)
        }
        let problems = read.flatMap(\.problems)
        let (status, message) = failure.map { ($0.status, $0.description) } ?? RevenueReport.outcome(problems)
        var history = HistoryCounts()
        history.set("basis", text: options.basis.rawValue)
        history.set("by", text: options.unit.rawValue)
        history.set("stores", text: stores.joined(separator: ","))
        history.set("reconciled", failure == nil && problems.isEmpty)
        return CommandEnding(
            status: status, message: message, report: report, closingLine: "revenue report finished",
            closingFields: [
                ("exit_status", status.description), ("basis", options.basis.rawValue), ("by", options.unit.rawValue),
                ("timezone", options.timeZone), ("stores", stores.joined(separator: ",")),
            ],
            counts: RunCounts(), historyCounts: history)
    }

    /// A store's own currency: the one its last refresh was made for (its nightly `run`'s REFERRAL_SHOP_CURRENCY),
    /// else the one of its orders (`--currency` is refused with several stores).
    private static func currency(on connection: PostgresConnection, _ context: JobContext) throws -> Currency {
        if let code = try connection.query("SELECT currency FROM referral_sync_state").first?[0],
            let currency = Currency(code: code)
        {
            return currency
        }
        return try Session.resolveCurrency(nil, on: connection, logger: context.logger)
    }

    /// Locks, refreshes and reads every store (see the type's comment).
    private func readStores(stages: inout StageTimer) throws -> [StoreRevenue] {
        var connections: [PostgresConnection] = []
        defer { for connection in connections { connection.releaseAdvisoryLocksAndClose() } }
        var locks = [session.store: session.lock]
        var currencies = [session.store: try Self.currency(on: session.lock, context)]
        for store in stores where locks[store] == nil {
            let connection = try context.store(store).connect()
            connections.append(connection)
            guard try Session.store(on: connection, configured: store) == store else {
                throw JobError(
                    .configuration, "the schema \(store) does not exist in this database",
                    remedy: "Name existing stores in --schemas, or create and migrate it first.")
            }
            try RunLock.take(on: connection, shard: .all, kind: .run, store: store)
            try Migrations.verify(on: connection)
            locks[store] = connection
            currencies[store] = try Self.currency(on: connection, context)
        }
        var snapshots: [ExportedSnapshot] = []
        defer { for snapshot in snapshots { snapshot.release() } }
        for store in stores.sorted() {
            let storeContext = context.store(store)
            let parameters = storeContext.recomputeParameters(currency: currencies[store] ?? session.currency)
            guard let lock = locks[store] else { continue }
            snapshots.append(
                try RefreshStage.refresh(storeContext, parameters, on: lock, stages: &stages, countRows: false))
        }
        let reader = try context.connect()
        defer {
            try? reader.run("ROLLBACK")
            reader.close()
        }
        // The snapshot exported after the last refresh sees every store's refresh, and no store can refresh again
        // before the reader holds it.
        try RevenueStore.begin(snapshots[snapshots.count - 1], zone: options.timeZone, on: reader)
        for snapshot in snapshots { snapshot.release() }
        var read: [StoreRevenue] = []
        for store in stores {
            _ = try reader.query("SELECT set_config('search_path', format('%I', $1::text), true)", [store])
            let currency = currencies[store] ?? session.currency
            try ParticipantStateStore.verify(on: reader, context.store(store).recomputeParameters(currency: currency))
            let (_, periods, totals) = try RevenueReport.readPeriods(
                on: reader, options: options, currency: currency, asOf: context.configuration.asOf)
            read.append(
                StoreRevenue(
                    store: store, currency: currency, periods: periods, totals: totals,
                    reconciliation: try RevenueStore.reconciliation(on: reader, currency: currency),
                    refresh: snapshots[stores.sorted().firstIndex(of: store) ?? 0].refresh))
        }
        stages.finish("read")
        return read
    }
}
