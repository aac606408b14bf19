import AttentiveSimulator
import Foundation
import TestSupport
import Testing

/// Issue 11: a connection Attentive (or a proxy before it) drops, resets or closes while idle must cost
/// milliseconds, not the request timeout, and no CPU while the job waits. Every run here uses the defaults a user
/// runs with (`--request-timeout 30`, `--max-rps 150`, `--concurrency 32`): a fault hidden by a short timeout in a
/// test is still a fault.
@Suite("dropped connections cost milliseconds", .serialized)
struct DroppedConnectionTests {
    static let participants = 150

    /// What one `referral-sync run` took, and what the simulator saw.
    struct Measured {
        var status: Int32
        var wallSeconds: Double
        var cpuSeconds: Double
        var accepted: Int
        var faults: [String: Int]
        var output: String
    }

    /// Runs the built executable once over `participants` changed participants against a simulator with `faults`.
    func runJob(
        faults configure: @escaping (inout FaultMix) -> Void = { _ in }, participants: Int = Self.participants,
        options: [String] = []
    ) async throws -> Measured {
        let harness = try await ExecutableHarness(simulator: { configure(&$0.faults) })
        try harness.insertParticipants(0..<participants)
        let binary = try #require(JobProcess.binary, "referral-sync is not built: run `swift build --build-tests`")
        let folder = try makeTemporaryFolder("dropped")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let environment = harness.environment.merging(["PATH": "/usr/bin:/bin"]) { first, _ in first }
        let started = Date()
        let job = try SpawnedProcess(
            binary, ["run", "--quiet"] + options, outputPath: folder + "/output", environment: environment)
        let exit = try #require(await job.exit(within: 300), "referral-sync did not end within 300 s")
        let wall = Date().timeIntervalSince(started)
        let statistics = harness.simulator.statistics()
        // The figures, for the log: what a run with these faults cost.
        print(
            "referral-sync run, \(participants) participants, faults \(statistics.faultsInjected): exit \(exit.status), "
                + "wall \(String(format: "%.2f", wall)) s, CPU \(String(format: "%.2f", exit.cpuSeconds)) s")
        return Measured(
            status: exit.status, wallSeconds: wall, cpuSeconds: exit.cpuSeconds,
            accepted: Set(harness.simulator.profiles().map(\.email)).count, faults: statistics.faultsInjected,
            output: (try? String(contentsOfFile: folder + "/output", encoding: .utf8)) ?? "")
    }

    /// The drops, resets and plain closes after the request was read.
    enum Drop: String, CaseIterable, CustomTestStringConvertible {
        case shutdownAfterRequest, dropConnection, resetConnection
        var testDescription: String { rawValue }

        func apply(_ rate: Double, to faults: inout FaultMix) {
            switch self {
            case .shutdownAfterRequest: faults.shutdownAfterRequestRate = rate
            case .dropConnection: faults.dropConnectionRate = rate
            case .resetConnection: faults.resetConnectionRate = rate
            }
        }
    }

    @Test(
        "a dropped connection is retried at once: the run converges about as fast as a clean one",
        arguments: Drop.allCases)
    func dropsConverge(_ drop: Drop) async throws {
        let clean = try await runJob()
        #expect(clean.status == 0, "\(clean.output)")
        let faulted = try await runJob(faults: { drop.apply(0.2, to: &$0) })
        #expect(faulted.status == 0, "\(faulted.output)")
        #expect(faulted.accepted == Self.participants)
        let drops = faulted.faults[drop.rawValue] ?? 0
        #expect(drops >= 10, "the simulator dropped \(drops) connections")
        // With URLSession each drop held its request for the whole 30 s timeout; a drop now costs a retry's
        // backoff. Generous on purpose: this catches stalls of seconds, it does not time the job.
        #expect(
            faulted.wallSeconds < clean.wallSeconds + 10,
            "\(drops) drops: \(faulted.wallSeconds) s against \(clean.wallSeconds) s clean")
    }

    @Test("20% dropped connections cost no more than a few times the CPU of a clean run (no spin while waiting)")
    func noSpinWhileWaiting() async throws {
        let clean = try await runJob()
        let faulted = try await runJob(faults: { $0.dropConnectionRate = 0.2 })
        #expect(clean.status == 0 && faulted.status == 0, "\(clean.output)\n\(faulted.output)")
        #expect((faulted.faults["dropConnection"] ?? 0) >= 10)
        #expect(
            faulted.cpuSeconds <= 4 * clean.cpuSeconds + 0.5,
            "CPU \(faulted.cpuSeconds) s with drops against \(clean.cpuSeconds) s clean")
    }

    @Test("keep-alive connections a load balancer closes while idle are replaced, not waited on")
    func idleKeepAliveClose() async throws {
        // At 20 requests/s the rate limiter spaces the requests 50 ms apart, and a fast answer leaves its
        // connection idle for most of that: the simulator closes it after 20 ms, as a load balancer would.
        let paced = ["--max-rps", "20"]
        let clean = try await runJob(participants: 60, options: paced)
        let faulted = try await runJob(faults: { $0.idleCloseSeconds = 0.02 }, participants: 60, options: paced)
        #expect(faulted.status == 0, "\(faulted.output)")
        #expect(faulted.accepted == 60)
        #expect((faulted.faults["idleClose"] ?? 0) > 0, "\(faulted.faults)")
        #expect(faulted.wallSeconds < clean.wallSeconds + 10)
        #expect(faulted.cpuSeconds <= 4 * clean.cpuSeconds + 0.5)
    }

    @Test("a half-open connection costs one request timeout, spent asleep, and the run still converges")
    func halfOpen() async throws {
        let clean = try await runJob(participants: 40)
        let faulted = try await runJob(faults: { $0.halfOpenRate = 0.05 }, participants: 40)
        #expect(faulted.status == 0, "\(faulted.output)")
        #expect(faulted.accepted == 40)
        let held = faulted.faults["halfOpen"] ?? 0
        #expect(held >= 1, "\(faulted.faults)")
        // Nothing can tell a silent peer from a slow one before the deadline: the request is held for the
        // default 30 s, in parallel with the others, and retried. Waiting must not burn CPU.
        #expect(faulted.wallSeconds >= 25, "a half-open request ended before its deadline: \(faulted.wallSeconds) s")
        #expect(faulted.cpuSeconds <= 4 * clean.cpuSeconds + 0.5, "CPU \(faulted.cpuSeconds) s")
    }
}
