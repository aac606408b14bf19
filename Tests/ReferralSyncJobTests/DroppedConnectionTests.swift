import Foundation
import TestSupport
import Testing

@testable import ReferralSyncCLI
@testable import ReferralSyncJob

/// The whole job against a stand-in that drops one request in five after reading it, the way a proxy or load
/// balancer drops a connection, with the default `--request-timeout` (30 s): each drop costs milliseconds, so one
/// run syncs everything. Over URLSession each drop held its request for the 30 s deadline while spinning a core
/// (issue 11); the time limit here is far below what a few such stalls in a row would take.
@Suite struct DroppedConnectionTests {
    @Test(.timeLimit(.minutes(1)), arguments: [DroppingServer.Drop.shutdown, .close, .reset])
    func aRunThroughDroppedConnectionsSyncsEverythingInOneRun(drop: DroppingServer.Drop) async throws {
        let harness = try await JobHarness()
        try ReferralHistory.participants(0..<40).insert(into: harness.database)
        let server = try DroppingServer(drop: drop, picks: { $0 % 5 == 0 })
        defer { server.stop() }
        let (status, reports, message) = await harness.runCapturingMessage(
            ["--currency", "USD", "--max-rps", "1000"],
            environment: ["ATTENTIVE_BASE_URL": server.baseURL.absoluteString])
        #expect(status == .success, "\(message)")
        let changes = try #require(reports).csv("changes.csv")
        #expect(!changes.isEmpty)
        // A drop on a fresh connection is retried by the client (attempt 2); on a reused one libcurl sends the
        // request again itself. Either way no value waits for a second run.
        #expect(changes.allSatisfy { $0["outcome"] == "synced" && Int($0["attempts"] ?? "") ?? 0 <= 2 }, "\(changes)")
        // One request per participant, plus one for each drop: the drops happened, and cost no value.
        let participants = Set(changes.compactMap { $0["customer_id"] }).count
        #expect(server.requests >= participants + participants / 5)
        let pending = try harness.database.query("SELECT count(*) FROM referral_sync_pending").first?.int(0)
        #expect(pending == 0)
    }
}
