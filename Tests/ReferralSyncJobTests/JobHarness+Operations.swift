import Attentive
import AttentiveSimulator
import Foundation
import Options
import Postgres
import ReferralModel
import ReferralStore
import TestSupport

@testable import ReferralSyncCLI
@testable import ReferralSyncJob

/// What the operability tests need beyond `JobHarness.run`: the result with its message, drift checks, and
/// participants in bulk.
extension JobHarness {
    /// Runs `run` (or `drift` with `drift` set) through the same parsing as the command line, and returns the
    /// whole result, message included.
    func result(
        _ arguments: [String] = [], environment extra: [String: String] = [:], drift: DriftOptions? = nil
    ) async throws -> RunResult {
        try await Self.result(
            ["--reports-dir", reportsDirectory] + arguments, environment: environment.merging(extra) { $1 },
            drift: drift)
    }

    /// ``result(_:environment:drift:)`` from values only, so a concurrent task can run it.
    static func result(_ arguments: [String], environment: [String: String], drift: DriftOptions? = nil)
        async throws -> RunResult
    {
        let specs = drift == nil ? JobOptions.runOptions : JobOptions.driftOptions
        let options = try ParsedOptions(arguments, options: specs, environment: environment)
        let configuration = try RunConfiguration(options: options, environment: environment, arguments: arguments)
        let job = SyncRun(configuration: configuration, logger: Logger(level: .error, sink: { _ in }))
        if let drift { return await job.checkDrift(drift) }
        return await job.execute()
    }

    /// Runs `referral-sync drift` through the command line and returns its status and published reports.
    func drift(_ arguments: [String] = [], environment extra: [String: String] = [:]) async -> (
        ExitStatus, ReportFiles?
    ) {
        let status = await ReferralSyncCommand.main(
            arguments: ["drift", "--reports-dir", reportsDirectory] + arguments,
            environment: environment.merging(extra) { $1 }, output: { _ in })
        let latest = reportsDirectory + "/latest"
        let files = FileManager.default.fileExists(atPath: latest + "/summary.md") ? ReportFiles(path: latest) : nil
        return (status, files)
    }

    /// Inserts `count` participants `p000`, `p001`, … each with an email and one successful referral.
    func insertParticipants(_ count: Int, revenue: String = "10.00") throws {
        var history = ReferralHistory()
        for index in 0..<count {
            let id = String(format: "p%03d", index)
            history.customer(.init(id, email: "\(id)@example.com", link: "https://test.oken.do/\(id)"))
            history.referral("r-\(id)", by: id)
            history.order("o-\(id)", for: "r-\(id)", total: revenue)
        }
        try history.insert(into: database)
    }

    /// A client of the simulator that changes values behind the job's back.
    func outsideClient() -> AttentiveClient {
        AttentiveClient(configuration: AttentiveClientConfiguration(baseURL: simulator.baseURL, apiKey: apiKey))
    }

    /// Whether any session holds an advisory lock in the harness database.
    func advisoryLocksHeld() throws -> Int { try database.advisoryLocksHeld() }

    /// Waits (at most `seconds`) until `condition` holds; returns whether it did.
    func wait(seconds: Double = 60, until condition: () throws -> Bool) async rethrows -> Bool {
        try await waitUntil(seconds: seconds, condition)
    }
}

/// Holds run locks from the test's own session, as a running job would.
struct LockHolder {
    let connection: PostgresConnection

    init(_ harness: JobHarness) throws { connection = try harness.database.connect() }

    /// Holds the whole-run lock (exclusive base key).
    func holdWholeRun() throws -> Bool {
        try connection.tryAdvisoryLock(StoreKeys.key(.run, store: StoreKeys.defaultStore))
    }

    /// Holds the locks of shard `number` of `count`, as `run --shard number/count` does.
    func holdShard(_ number: Int, of count: Int) throws -> Bool {
        let store = StoreKeys.defaultStore
        let shardKey = StoreKeys.shardKey(.run, shard: Shard(number: number, count: count), store: store) ?? 0
        return try connection.tryAdvisoryLock(StoreKeys.key(.run, store: store), shared: true)
            && connection.tryAdvisoryLock(shardKey)
    }

    func releaseAll() throws { try connection.run("SELECT pg_advisory_unlock_all()") }
}
