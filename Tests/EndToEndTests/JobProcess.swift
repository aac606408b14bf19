import AttentiveSimulator
import Foundation
import Postgres
import TestSupport
import Testing

/// The built `referral-sync` executable, started as a scheduler would: its own process, a small environment,
/// output to files.
struct JobProcess {
    /// `.build/<configuration>/referral-sync`, beside the test bundle (`swift build --build-tests` builds it).
    static let binary: String? = {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments.first ?? "").deletingLastPathComponent(),
            Bundle.main.bundleURL.deletingLastPathComponent(),
            Bundle.main.bundleURL,
        ]
        return candidates.map { $0.appendingPathComponent("referral-sync").path }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// What a finished process left.
    struct Finished {
        var status: Int32
        var killedBySignal: Bool
        var stdout: String
        var stderr: String
    }

    /// The running job (tests signal `process.processIdentifier`).
    let process: SpawnedProcess
    let arguments: [String]
    let stdoutPath: String
    let stderrPath: String

    /// Starts `referral-sync arguments…` with exactly `environment` (plus PATH), in a folder of its own.
    init(_ arguments: [String], environment: [String: String]) throws {
        let binary = try #require(Self.binary, "referral-sync is not built: run `swift build --build-tests` first")
        let folder = try makeTemporaryFolder("job-output")
        self.arguments = arguments
        stdoutPath = folder + "/stdout"
        stderrPath = folder + "/stderr"
        process = try SpawnedProcess(
            binary, arguments, outputPath: stdoutPath, errorPath: stderrPath, directory: folder,
            environment: environment.merging(["PATH": "/usr/bin:/bin"]) { first, _ in first })
    }

    /// Waits for the process to end (at most `seconds`, then it is stopped and the test fails).
    func wait(seconds: Double = 180) async -> Finished {
        let exit = await process.exit(within: seconds)
        if exit == nil { Issue.record("referral-sync \(arguments) did not end within \(seconds) s") }
        return Finished(
            status: exit?.terminationStatus ?? -1, killedBySignal: (exit?.signal ?? 0) != 0,
            stdout: (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "")
    }

    /// Runs `referral-sync arguments…` to the end.
    static func run(_ arguments: [String], environment: [String: String]) async throws -> Finished {
        try await JobProcess(arguments, environment: environment).wait()
    }
}

/// A migrated database, a simulator and a reports folder for the executable.
final class ExecutableHarness {
    let database: TestDatabase
    let simulator: AttentiveSimulator
    let reportsDirectory: String
    let apiKey: String

    init(
        apiKey: String = "e2e-key-\(UUID().uuidString)",
        simulator configure: (inout SimulatorConfiguration) -> Void = { _ in }
    )
        async throws
    {
        self.apiKey = apiKey
        database = try await offThePool { try TestDatabase.create(prefix: "e2e") }
        var configuration = SimulatorConfiguration(apiKey: apiKey)
        configure(&configuration)
        simulator = AttentiveSimulator(configuration: configuration)
        try simulator.start()
        reportsDirectory = try makeTemporaryFolder("e2e-reports")
        let migrated = try await JobProcess.run(["migrate"], environment: ["DATABASE_URL": database.conninfo])
        #expect(migrated.status == 0, "\(migrated.stderr)")
    }

    deinit {
        simulator.stop()
        database.dropInBackground()
        try? FileManager.default.removeItem(atPath: reportsDirectory)
    }

    /// The environment a scheduler gives the job.
    var environment: [String: String] {
        [
            "ATTENTIVE_API_KEY": apiKey, "ATTENTIVE_BASE_URL": simulator.baseURL.absoluteString,
            "DATABASE_URL": database.conninfo, "REFERRAL_SYNC_REPORTS_DIR": reportsDirectory,
        ]
    }

    /// Inserts participants `p000`… with one successful referral each.
    func insertParticipants(_ range: Range<Int>) throws {
        var history = ReferralHistory()
        for index in range {
            let id = String(format: "p%03d", index)
            history.customer(.init(id, email: "\(id)@example.com", link: "https://test.oken.do/\(id)"))
            history.referral("r-\(id)", by: id)
            history.order("o-\(id)", for: "r-\(id)", total: "10.00")
        }
        try history.insert(into: database)
    }

    /// The entries of the reports folder.
    func reportEntries() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: reportsDirectory).sorted()
    }

    /// Where `latest` points.
    func latest() throws -> String {
        try FileManager.default.destinationOfSymbolicLink(atPath: reportsDirectory + "/latest")
    }

    /// Sessions holding an advisory lock in the database.
    func advisoryLocksHeld() throws -> Int { try database.advisoryLocksHeld() }

    /// Waits (at most `seconds`) until `condition` holds; returns whether it did.
    func wait(seconds: Double = 60, until condition: () throws -> Bool) async rethrows -> Bool {
        try await waitUntil(seconds: seconds, condition)
    }
}
