import Foundation
import TestSupport
import Testing

/// Issue 23's probe: a boolean variable that says neither yes nor no stops the job before it connects or sends.
@Suite struct MistypedVariableTests {
    @Test func aDryRunAskedForWithAWordTheJobDoesNotKnowSendsNothingAndExits78() async throws {
        let harness = try await ExecutableHarness()
        try harness.insertParticipants(0..<3)
        for word in ["y", "maybe"] {
            let finished = try await JobProcess.run(
                ["run"], environment: harness.environment.merging(["REFERRAL_SYNC_DRY_RUN": word]) { $1 })
            #expect(finished.status == 78, "\(finished.stderr)")
            #expect(
                finished.stderr.contains(
                    "referral-sync: exit 78: REFERRAL_SYNC_DRY_RUN is '\(word)'. Expected 1, true, yes or on, or 0, "
                        + "false, no or off."), "\(finished.stderr)")
        }
        #expect(harness.simulator.statistics().requests == 0)
        #expect(try harness.database.query("SELECT count(*) FROM referral_sync_runs").first?.int(0) == 0)
        // The same words the job knows still work.
        let dryRun = try await JobProcess.run(
            ["run"], environment: harness.environment.merging(["REFERRAL_SYNC_DRY_RUN": "Yes"]) { $1 })
        #expect(dryRun.status == 0, "\(dryRun.stderr)")
        #expect(harness.simulator.statistics().requests == 0)
    }
}
