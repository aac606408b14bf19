import Foundation
import TestSupport
import Testing

/// A run killed mid-write never leaves a half report folder, `latest` keeps pointing at a complete one, and the
/// crashed run's lock is freed by its disconnection.
@Suite struct KilledRunTests {
    @Test func runKilledMidWriteLeavesNoPartialFolderAndLatestStillComplete() async throws {
        let harness = try await ExecutableHarness()
        try harness.insertParticipants(0..<1)
        let first = try await JobProcess.run(["run"], environment: harness.environment)
        #expect(first.status == 0, "\(first.stderr)")
        let complete = try harness.latest()
        #expect(FileManager.default.fileExists(atPath: harness.reportsDirectory + "/" + complete + "/summary.md"))

        // 40 more participants, answered one at a time after a second each from the start: however late the kill
        // lands on a loaded machine (it once came after forty 100 ms answers), the run is mid-sync.
        try harness.insertParticipants(1..<41)
        var slow = harness.simulator.configuration
        slow.latencyMilliseconds = 1000
        harness.simulator.update(configuration: slow)
        let requestsBefore = harness.simulator.statistics().requests
        let victim = try JobProcess(["run", "--concurrency", "1"], environment: harness.environment)
        let midWrite = try await harness.wait {
            try harness.reportEntries().contains { $0.hasPrefix(".incomplete-") }
                && harness.simulator.statistics().requests >= requestsBefore + 1
        }
        #expect(midWrite)
        kill(victim.process.processIdentifier, SIGKILL)
        let killed = await victim.wait()
        #expect(killed.killedBySignal)
        #expect(killed.status == SIGKILL)
        #expect(harness.simulator.statistics().requests < requestsBefore + 40)

        // Readers see only complete folders: the killed run's files are in a dot-folder, never published.
        let published = try harness.reportEntries().filter { !$0.hasPrefix(".") && $0 != "latest" }
        #expect(published == [complete])
        #expect(try harness.latest() == complete)
        for name in ["summary.md", "attributes.csv", "changes.csv", "rejected_rows.csv"] {
            #expect(FileManager.default.fileExists(atPath: harness.reportsDirectory + "/latest/" + name))
        }
        #expect(try harness.reportEntries().filter { $0.hasPrefix(".incomplete-") }.count == 1)

        // The crashed run held the lock on its own connection: PostgreSQL frees it when the process is gone.
        #expect(try await harness.wait { try harness.advisoryLocksHeld() == 0 })
        var fast = harness.simulator.configuration
        fast.latencyMilliseconds = 0
        harness.simulator.update(configuration: fast)
        let next = try await JobProcess.run(["run"], environment: harness.environment)
        #expect(next.status == 0, "\(next.stderr)")
        #expect(try harness.latest() != complete)
        #expect(harness.simulator.profiles().count == 41)
        #expect(harness.simulator.profiles().allSatisfy { $0.attributes.count == 4 })
    }

    @Test func sigtermFinishesTheRequestsInFlightPublishesTheReportsAndExits143() async throws {
        let harness = try await ExecutableHarness()
        try harness.insertParticipants(0..<30)
        // Every answer takes a second from the start: however late this test gets to send the signal on a loaded
        // machine (it once took longer than thirty fast answers), the run stops long before its 30th participant,
        // and the request in flight when the signal comes is finished and recorded.
        var slow = harness.simulator.configuration
        slow.latencyMilliseconds = 1000
        harness.simulator.update(configuration: slow)
        let job = try JobProcess(["run", "--concurrency", "1"], environment: harness.environment)
        #expect(try await harness.wait { harness.simulator.statistics().requests >= 1 })
        kill(job.process.processIdentifier, SIGTERM)
        let stopped = await job.wait()
        #expect(!stopped.killedBySignal)
        #expect(stopped.status == 143)
        #expect(stopped.stderr.contains("referral-sync: exit 143: "))
        let summary = try String(contentsOfFile: harness.reportsDirectory + "/latest/summary.md", encoding: .utf8)
        #expect(summary.contains("exit 143"))
        let pending = try harness.database.query("SELECT count(*) FROM referral_sync_pending").first?.int(0) ?? 0
        let ledger = try harness.database.query("SELECT count(*) FROM referral_sync_ledger").first?.int(0) ?? 0
        #expect(ledger > 0 && ledger < 30)
        #expect(pending == (30 - ledger) * 4)

        var fast = harness.simulator.configuration
        fast.latencyMilliseconds = 0
        harness.simulator.update(configuration: fast)
        let next = try await JobProcess.run(["run"], environment: harness.environment)
        #expect(next.status == 0, "\(next.stderr)")
        #expect(harness.simulator.profiles().count == 30)
    }
}
