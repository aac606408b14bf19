import AttentiveSimulator
import Foundation
import Testing

@testable import Attentive

/// Bulk submit → poll → results against the simulator.
@Suite("Bulk against the simulator")
struct BulkIntegrationTests {
    /// Polls until the job leaves `inProgress` (at most ~5 s).
    private func waitForJob(_ jobId: String, client: AttentiveClient) async throws -> BulkJobStatus {
        for _ in 0..<100 {
            let status = await client.bulkJobStatus(jobId: jobId)
            guard case .inProgress = status else { return status }
            try await Task.sleep(for: .milliseconds(50))
        }
        return await client.bulkJobStatus(jobId: jobId)
    }

    @Test func badIdentityFailsOnlyItsRecord() async throws {
        try await withSimulator({ $0.faults.badIdentities = ["bad@example.com"] }) { simulator, client in
            let updates = [
                AttributeUpdate(
                    user: .init(email: "good1@example.com", phone: nil), properties: ["referral_code": "G1"]),
                AttributeUpdate(user: .init(email: "bad@example.com", phone: nil), properties: ["referral_code": "B"]),
                AttributeUpdate(user: .init(email: nil, phone: "+13115552368"), properties: ["referral_code": "G2"]),
            ]
            let submission = await client.submitBulk(updates)
            guard case .accepted(let jobId, 1) = submission else {
                Issue.record("expected acceptance, got \(submission)")
                return
            }
            let status = try await waitForJob(jobId, client: client)
            guard case .completed(let resultsURL?) = status else {
                Issue.record("expected completion with a results URL, got \(status)")
                return
            }
            let results = try await client.bulkResults(at: resultsURL).get().sorted { $0.index < $1.index }
            #expect(results.map(\.index) == [0, 1, 2])
            #expect(results.map(\.succeeded) == [true, false, true])
            #expect(results[1].identifiers == AttentiveUser(email: "bad@example.com", phone: nil))
            #expect(results[1].error?.contains("invalid") == true)
            #expect(results[0].error == nil)
            #expect(simulator.profile(email: "good1@example.com")?.attributes == ["referral_code": "G1"])
            #expect(simulator.profile(phone: "+13115552368")?.attributes == ["referral_code": "G2"])
            #expect(simulator.profile(email: "bad@example.com") == nil)
        }
    }

    @Test func fullBatchIsAppliedDespiteServerErrors() async throws {
        try await withSimulator({ $0.faults.internalErrorRate = 0.3 }) { simulator, client in
            let updates = referralUpdates(256, prefix: "bulk")
            guard case .accepted(let jobId, _) = await client.submitBulk(updates) else {
                Issue.record("the batch should be accepted after retries")
                return
            }
            guard case .completed(let resultsURL?) = try await waitForJob(jobId, client: client) else {
                Issue.record("the job should complete")
                return
            }
            let results = try await client.bulkResults(at: resultsURL).get()
            #expect(results.count == 256)
            #expect(results.allSatisfy { $0.succeeded })
            #expect(simulator.profiles().count == 256)
        }
    }

    @Test func unknownJobIsReported() async throws {
        try await withSimulator { _, client in
            #expect(await client.bulkJobStatus(jobId: "no-such-job") == .unknownJob)
        }
    }
}
