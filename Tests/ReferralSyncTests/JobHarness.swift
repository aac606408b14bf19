import AttentiveSimulator
import Foundation
import ReferralStore
import ReferralSync
import TestSupport

/// A migrated test database, a running simulator and a reports folder: everything one job test needs.
final class JobHarness {
    let database: TestDatabase
    let simulator: AttentiveSimulator
    let reportsDirectory: String
    let apiKey = "test-key-\(UUID().uuidString)"

    init(simulator configure: (inout SimulatorConfiguration) -> Void = { _ in }) throws {
        database = try TestDatabase.create(prefix: "job")
        let connection = try database.connect()
        try Migrations.apply(on: connection)
        connection.close()
        var configuration = SimulatorConfiguration(apiKey: apiKey)
        configure(&configuration)
        simulator = AttentiveSimulator(configuration: configuration)
        try simulator.start()
        reportsDirectory = try makeTemporaryFolder("reports")
    }

    deinit {
        simulator.stop()
        database.drop()
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
