import AttentiveSimulator
import Foundation
import Postgres
import ReferralSyncCLI
import ReferralSyncJob
import Synchronization
import TestSupport
import Testing

/// `forget --request-deletion` files Attentive's deletion request for each identity and records the ids, never the
/// identities; `forget --status` reads each request's `processed` state (README "Personal data").
@Suite("Forget: Attentive's deletion requests")
struct ForgetDeletionRequestTests {
    /// Runs `referral-sync` in-process and returns its exit status and what it printed.
    func command(_ harness: JobHarness, _ arguments: [String]) async -> (ReferralSyncJob.ExitStatus, String) {
        let printed = Mutex("")
        let status = await ReferralSyncCommand.main(
            arguments: [
                arguments[0], "--reports-dir", harness.reportsDirectory, "--currency", "USD",
                "--default-phone-region", "US",
            ] + arguments.dropFirst(),
            environment: harness.environment, output: { text in printed.withLock { $0 += text } })
        return (status, printed.withLock { $0 })
    }

    @Test("one request per email and phone reaches the simulator; the ids are recorded and audited, not whom")
    func requestDeletionFilesEachIdentity() async throws {
        let harness = try await JobHarness()
        try harness.database.run(ForgetTests.history)
        #expect(await command(harness, ["run", "--as-of", "2025-01-10T20:00:00Z"]).0 == .success)
        #expect(harness.simulator.profile(email: "zelda@example.com") != nil)

        let (status, _) = await command(harness, ["forget", "c1", "YORICK@example.com", "--request-deletion"])
        #expect(status == .success)

        let filed = harness.simulator.privacyRequests()
        #expect(
            Set(filed.map { $0.subjectEmail ?? $0.subjectPhone ?? "" }) == [
                "zelda@example.com", "yorick@example.com", "+14155550101", "+14155550102",
            ])
        #expect(filed.allSatisfy { ($0.subjectEmail == nil) != ($0.subjectPhone == nil) && $0.clientUserId == nil })
        for request in filed {
            let message = (request.requestMsg ?? "").lowercased()
            #expect(message.hasPrefix("referral-sync forget"))
            #expect(!ForgetTests.needles.contains { message.contains($0) })
        }
        let recorded = try harness.database.query(
            "SELECT request_id, kind, length(identity_hash) FROM referral_sync_deletion_requests ORDER BY request_id")
        #expect(recorded.map { $0[0] ?? "" } == filed.map(\.id).sorted())
        #expect(recorded.filter { $0[1] == "email" }.count == 2)
        #expect(recorded.allSatisfy { $0[2] == "64" })
        let audit = try harness.database.query(
            "SELECT outcome_counts->>'deletion_requests' FROM referral_sync_runs WHERE command = 'forget'")
        #expect(Set((audit.first?[0] ?? "").split(separator: " ").map(String.init)) == Set(filed.map(\.id)))
        #expect(try ForgetTests().tablesNaming(harness) == [])
        // Processed at once (delay 0): Attentive's copy of them is gone too.
        #expect(harness.simulator.profile(email: "zelda@example.com") == nil)

        let (statusExit, printed) = await command(harness, ["forget", "--status"])
        #expect(statusExit == .success)
        let lines = printed.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        for request in filed {
            #expect(lines.contains { $0.hasPrefix(request.id + "  filed ") && $0.hasSuffix("  processed") })
        }
        #expect(!ForgetTests.needles.contains { printed.lowercased().contains($0) })
    }

    @Test("a request within Attentive's processing time reads not processed")
    func statusNotProcessedYet() async throws {
        let harness = try await JobHarness { $0.privacyProcessingDelayMilliseconds = 600_000 }
        try harness.database.run(ForgetTests.history)
        #expect(await command(harness, ["forget", "c3", "--request-deletion"]).0 == .success)
        let filed = harness.simulator.privacyRequests()
        #expect(filed.map(\.subjectEmail) == ["kim@example.com"])
        let (status, printed) = await command(harness, ["forget", "--status"])
        #expect(status == .success)
        #expect(printed.hasPrefix(filed[0].id + "  filed 20"))
        #expect(printed.hasSuffix("Z  email  not processed\n"))
    }

    @Test("a request Attentive cannot answer for is unreadable: exit 1")
    func statusUnreadable() async throws {
        let harness = try await JobHarness()
        try harness.database.run(ForgetTests.history)
        #expect(await command(harness, ["forget", "c3", "--request-deletion"]).0 == .success)
        harness.simulator.reset()
        let (status, printed) = await command(harness, ["forget", "--status"])
        #expect(status == .needsAttention)
        #expect(printed.contains("  email  unreadable: "))
        #expect(printed.contains("HTTP 404"))
    }

    @Test("--status takes no PERSON")
    func statusTakesNoPerson() async throws {
        let harness = try await JobHarness()
        #expect(await command(harness, ["forget", "--status", "c1"]).0 == .usage)
    }
}
