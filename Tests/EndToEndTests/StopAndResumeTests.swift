import AttentiveSimulator
import Foundation
import TestSupport
import Testing

/// The built executable stopped mid-sync, by SIGKILL (a crash) or SIGTERM (a scheduler's stop), in both modes:
/// nothing is marked synced that Attentive does not hold, every changed value is accounted for, and the next run
/// converges with nothing lost.
@Suite struct StopAndResumeTests {
    /// 80 participants, two requests at a time (bulk: two participants a job), and three requests in ten held
    /// unanswered until the job's 2-second request timeout gives up on them (then retried): the run stays mid-sync
    /// long enough for the test's signal to land mid-sync even when a loaded machine delays the test (with 40, a CI
    /// run under load once saw every bulk batch submitted before the signal arrived).
    static let participantCount = 80

    static func stallingHarness() async throws -> ExecutableHarness {
        let harness = try await ExecutableHarness {
            $0.latencyMilliseconds = 20
            $0.faults.timeoutRate = 0.3
            $0.faults.hangSeconds = 60
            $0.bulkCompletionDelayMilliseconds = 20
            $0.seed = 3
        }
        try ReferralHistory.participants(0..<participantCount).insert(into: harness.database)
        return harness
    }

    static func arguments(_ mode: String) -> [String] {
        [
            "run", "--mode", mode, "--concurrency", "2", "--bulk-batch-size", "2", "--request-timeout", "2",
            "--currency", "USD",
        ]
    }

    /// Lets the simulator answer at once again, runs the job to the end and checks that it converged.
    static func resumeAndConverge(_ harness: ExecutableHarness, mode: String) async throws {
        var fast = harness.simulator.configuration
        fast.latencyMilliseconds = 0
        fast.faults.timeoutRate = 0
        harness.simulator.update(configuration: fast)
        let next = try await JobProcess.run(arguments(mode) + ["--bulk-wait", "60"], environment: harness.environment)
        #expect(next.status == 0, "\(next.stderr)")
        let truth = try ReportFiles(path: harness.reportsDirectory + "/latest").csv("attributes.csv")
        #expect(truth.count == participantCount)
        let mismatches = try Convergence.mismatches(
            truth: truth, database: harness.database, simulator: harness.simulator)
        #expect(mismatches.isEmpty, "\(mismatches)")
    }

    @Test(arguments: ["v1", "bulk"])
    func killedMidSyncTheNextRunConvergesWithNothingLost(mode: String) async throws {
        let harness = try await Self.stallingHarness()
        let victim = try JobProcess(Self.arguments(mode), environment: harness.environment)
        #expect(await harness.wait { harness.simulator.statistics().requests >= 4 })
        kill(victim.process.processIdentifier, SIGKILL)
        let killed = await victim.wait()
        #expect(killed.killedBySignal && killed.status == SIGKILL)
        let accepted = harness.simulator.statistics().acceptedUpdates + harness.simulator.statistics().bulkJobsSubmitted
        #expect(accepted > 0)
        #expect(harness.simulator.profiles().count < Self.participantCount, "the run was not stopped mid-sync")

        // Whatever the kill interrupted, the ledger holds nothing Attentive does not.
        let early = try Convergence.ledgerNotInAttentive(database: harness.database, simulator: harness.simulator)
        #expect(early.isEmpty, "\(early)")
        try await Self.resumeAndConverge(harness, mode: mode)
    }

    @Test(arguments: ["v1", "bulk"])
    func sigtermMidSyncRecordsEveryValueWritesTheReportsAndExits143(mode: String) async throws {
        let harness = try await Self.stallingHarness()
        let job = try JobProcess(Self.arguments(mode), environment: harness.environment)
        #expect(await harness.wait { harness.simulator.statistics().requests >= 4 })
        kill(job.process.processIdentifier, SIGTERM)
        let stopped = await job.wait()
        #expect(!stopped.killedBySignal && stopped.status == 143, "\(stopped.stderr)")
        #expect(stopped.stderr.contains("referral-sync: exit 143: stopped by signal 15"))

        let reports = ReportFiles(path: harness.reportsDirectory + "/latest")
        #expect(try reports.text("summary.md").contains("exit 143"))
        let changes = try reports.csv("changes.csv")
        // Every changed participant has its rows.
        #expect(Set(changes.map { $0["customer_id"] ?? "" }).count == Self.participantCount)
        let outcomes = Set(changes.map { $0["outcome"] ?? "" })
        #expect(outcomes.contains("synced") || outcomes.contains("in_flight"), "\(outcomes)")
        #expect(changes.contains { ($0["error"] ?? "").hasPrefix("not sent: the run was stopped by signal 15") })
        let unaccounted = try Convergence.unaccounted(
            changes: changes, database: harness.database, simulator: harness.simulator)
        #expect(unaccounted.isEmpty, "\(unaccounted)")
        let early = try Convergence.ledgerNotInAttentive(database: harness.database, simulator: harness.simulator)
        #expect(early.isEmpty, "\(early)")
        try await Self.resumeAndConverge(harness, mode: mode)
    }
}
