import AttentiveSimulator
import Foundation
import ReferralStore
import ReferralSyncCLI
import ReferralSyncJob
import TestSupport

/// A migrated test database, a running simulator and a reports folder: everything one job test needs.
final class JobHarness {
    let database: TestDatabase
    let simulator: AttentiveSimulator
    let reportsDirectory: String
    let apiKey = "test-key-\(UUID().uuidString)"

    init(simulator configure: (inout SimulatorConfiguration) -> Void = { _ in }) async throws {
        database = try await offThePool {
            let database = try TestDatabase.create(prefix: "job")
            let connection = try database.connect()
            defer { connection.close() }
            try Migrations.apply(on: connection)
            return database
        }
        var configuration = SimulatorConfiguration(apiKey: apiKey)
        configure(&configuration)
        simulator = AttentiveSimulator(configuration: configuration)
        try simulator.start()
        reportsDirectory = try makeTemporaryFolder("reports")
    }

    deinit {
        simulator.stop()
        database.dropInBackground()
        try? FileManager.default.removeItem(atPath: reportsDirectory)
    }

    /// The environment a scheduler would give the job.
    var environment: [String: String] {
        [
            "ATTENTIVE_API_KEY": apiKey, "ATTENTIVE_BASE_URL": simulator.baseURL.absoluteString,
            "DATABASE_URL": database.conninfo, "REFERRAL_SYNC_QUIET": "1",
        ]
    }

    /// Runs `referral-sync run` in-process and returns its exit status and the published reports.
    func run(_ arguments: [String] = [], environment extra: [String: String] = [:]) async -> (ExitStatus, ReportFiles?)
    {
        let status = await ReferralSyncCommand.main(
            arguments: ["run", "--reports-dir", reportsDirectory] + arguments,
            environment: environment.merging(extra) { $1 }, output: { _ in })
        let latest = reportsDirectory + "/latest"
        let files = FileManager.default.fileExists(atPath: latest + "/summary.md") ? ReportFiles(path: latest) : nil
        return (status, files)
    }

    /// Runs `referral-sync run` like ``run(_:environment:)`` and also returns the closing line the job prints on
    /// stderr (`referral-sync: exit N: …`), empty when it exits 0.
    func runCapturingMessage(_ arguments: [String] = [], environment extra: [String: String] = [:]) async
        -> (status: ReferralSyncJob.ExitStatus, reports: ReportFiles?, message: String)
    {
        let captured = CapturedText()
        let (status, reports) = await ReferralSyncCommand.$errorOutput.withValue({ captured.append($0) }) {
            await run(arguments, environment: extra)
        }
        return (status, reports, captured.text)
    }

    /// The row of `customer` in a CSV report of `reports`, which must have been published.
    static func row(_ reports: ReportFiles?, _ file: String, _ customer: String) throws -> [String: String]? {
        guard let reports else { throw MissingReports() }
        return row(try reports.csv(file), customer)
    }

    struct MissingReports: Error {}

    /// The attributes.csv row of `customer`.
    static func row(_ rows: [[String: String]], _ customer: String) -> [String: String]? {
        rows.first { $0["customer_id"] == customer }
    }
}

/// Text collected from a `@Sendable` callback.
final class CapturedText: @unchecked Sendable {
    private let lock = NSLock()
    private var collected = ""
    func append(_ text: String) { lock.withLock { collected += text } }
    var text: String { lock.withLock { collected } }
}

/// Runs `referral-sync` in-process with an explicit environment (no harness) and captures its closing line.
func runCommand(_ arguments: [String], environment: [String: String]) async -> (
    status: ReferralSyncJob.ExitStatus, message: String
) {
    let captured = CapturedText()
    let status = await ReferralSyncCommand.$errorOutput.withValue({ captured.append($0) }) {
        await ReferralSyncCommand.main(arguments: arguments, environment: environment, output: { _ in })
    }
    return (status, captured.text)
}
