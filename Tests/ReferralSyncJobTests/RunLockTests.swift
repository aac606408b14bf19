import Foundation
import TestSupport
import Testing

@testable import ReferralSyncCLI
@testable import ReferralSyncJob

/// One run at a time: the session advisory lock, shards, and drift under the same lock.
@Suite struct RunLockTests {
    @Test func secondConcurrentRunExitsTempFailAtOnceWhileTheFirstFinishes() async throws {
        let harness = try await JobHarness()
        try harness.insertParticipants(20)
        // The test pauses the first run right after it took the lock: it blocks on writing its history row until
        // the test's transaction ends. No timing is involved.
        let pause = try harness.database.connect()
        try pause.run("BEGIN; LOCK TABLE referral_sync_runs IN EXCLUSIVE MODE")
        let (arguments, environment) = (["--reports-dir", harness.reportsDirectory], harness.environment)
        let first = Task { try await JobHarness.result(arguments, environment: environment) }
        let firstHoldsTheLock = try await harness.wait(seconds: 180) { try harness.advisoryLocksHeld() > 0 }
        guard firstHoldsTheLock else {
            // Never leave the first run waiting on the test's table lock: a run that has not taken its lock yet
            // would otherwise take it later and block on the table for good, and the test with it.
            try pause.run("COMMIT")
            pause.close()
            _ = try? await first.value
            Issue.record("the first run did not take its lock within 180 s")
            return
        }

        let second = try await harness.result()
        #expect(second.status == .locked)
        #expect(second.message.contains("another referral-sync run holds the lock"))
        #expect(second.reportFolder == nil)
        let drift = try await harness.result(drift: DriftOptions())
        #expect(drift.status == .locked)
        // Both returned while the first still held the lock and had sent nothing yet.
        #expect(try harness.advisoryLocksHeld() > 0)
        #expect(harness.simulator.statistics().requests == 0)

        try pause.run("COMMIT")
        pause.close()
        let firstResult = try await first.value
        #expect(firstResult.status == .success)
        #expect(firstResult.counts[.synced] == 80)
        #expect(harness.simulator.profiles().count == 20)
        // A finished run's session ends on the server shortly after it disconnects.
        #expect(try await harness.wait { try harness.advisoryLocksHeld() == 0 })
        // The locked-out runs left no history row.
        #expect(try harness.database.query("SELECT count(*) FROM referral_sync_runs").first?.int(0) == 1)
    }

    @Test func runsOneAfterAnotherBothGetTheLock() async throws {
        let harness = try await JobHarness()
        try harness.insertParticipants(3)
        #expect(try await harness.result().status == .success)
        #expect(try await harness.result().status == .success)
        #expect(try await harness.result(drift: DriftOptions()).status == .success)
        // A run releases its locks before it returns, not a moment later when the server ends its session.
        #expect(try harness.advisoryLocksHeld() == 0)
    }

    @Test func shardsRunSideBySideButNeverBesideThemselvesOrAWholeRun() async throws {
        let harness = try await JobHarness()
        try harness.insertParticipants(6)
        let holder = try LockHolder(harness)
        #expect(try holder.holdShard(1, of: 2))
        #expect(try await harness.result(["--shard", "1/2"]).status == .locked)
        #expect(try await harness.result().status == .locked)
        #expect(try await harness.result(["--shard", "2/2"]).status == .success)
        try holder.releaseAll()
        // The sessions of the runs above end on the server shortly after they disconnect.
        #expect(try await harness.wait { try harness.advisoryLocksHeld() == 0 })

        #expect(try holder.holdWholeRun())
        #expect(try await harness.result(["--shard", "2/2"]).status == .locked)
        try holder.releaseAll()
        #expect(try await harness.result(["--shard", "1/2"]).status == .success)
    }

    @Test func shardsTogetherCoverEveryParticipantExactlyOnce() async throws {
        let harness = try await JobHarness()
        try harness.insertParticipants(97)
        func participants(_ arguments: [String]) async throws -> [String] {
            let (status, reports) = await harness.run(["--dry-run"] + arguments)
            #expect(status == .success)
            return try #require(reports).csv("attributes.csv").compactMap { $0["customer_id"] }
        }
        let whole = try await participants([])
        let first = try await participants(["--shard", "1/2"])
        let second = try await participants(["--shard", "2/2"])
        #expect(whole.count == 97)
        #expect(!first.isEmpty && !second.isEmpty)
        #expect(Set(first).isDisjoint(with: second))
        #expect((first + second).sorted() == whole.sorted())
        #expect(first.count + second.count == whole.count)

        // Really synced shard by shard, the whole set is in Attentive once and a whole run has nothing to send.
        #expect(await harness.run(["--shard", "1/2"]).0 == .success)
        #expect(await harness.run(["--shard", "2/2"]).0 == .success)
        #expect(harness.simulator.statistics().requests == 97)
        #expect(harness.simulator.profiles().count == 97)
        let (status, reports) = await harness.run()
        #expect(status == .success)
        #expect(try #require(reports).csv("changes.csv").isEmpty)
    }

    @Test func shardsOfThreeArePartitionsToo() async throws {
        let harness = try await JobHarness()
        try harness.insertParticipants(40)
        var seen: [String] = []
        for number in 1...3 {
            let (status, reports) = await harness.run(["--dry-run", "--shard", "\(number)/3"])
            #expect(status == .success)
            seen += try #require(reports).csv("attributes.csv").compactMap { $0["customer_id"] }
        }
        #expect(seen.count == 40)
        #expect(Set(seen).count == 40)
    }
}
