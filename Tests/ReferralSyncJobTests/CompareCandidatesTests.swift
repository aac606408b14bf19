import AttentiveSimulator
import TestSupport
import Testing

@testable import ReferralSyncCLI
@testable import ReferralSyncJob

/// A run compares with the ledger only the participants whose values may differ from it
/// (`sql/definitions/87_compare_candidates.sql`, issue 27). What it sends must be what comparing everyone sends:
/// every way a difference can arise (a recompute, the ledger changed by hand, deleted or emptied, a dry run in
/// between) is tried here, and a quiet night after each sends nothing more.
@Suite struct CompareCandidatesTests {
    /// Three referrers who can be sent and one with neither email nor phone (skipped every night).
    static func history(_ harness: JobHarness) throws {
        var history = ReferralHistory()
        for id in ["c1", "c2", "c3"] {
            history.customer(.init(id, email: "\(id)@example.com", phone: nil, link: "https://test.oken.do/\(id)"))
            history.referral("r-\(id)", by: id)
            history.order("o-\(id)", for: "r-\(id)", total: "10.00", at: "2024-11-08T06:10:36.989Z")
        }
        history.customer(.init("nobody", email: nil, phone: nil, link: "https://test.oken.do/nobody"))
        history.referral("r-nobody", by: "nobody")
        try history.insert(into: harness.database)
    }

    static func candidates(_ harness: JobHarness) throws -> Set<String> {
        Set(try harness.database.query("SELECT customer_id FROM referral_sync_compare_candidates").compactMap { $0[0] })
    }

    static func compareEveryone(_ harness: JobHarness) throws -> Bool? {
        try harness.database.query("SELECT compare_everyone FROM referral_sync_state").first?.bool(0)
    }

    /// The customers of changes.csv with `outcome`.
    static func changed(_ reports: ReportFiles?, _ outcome: String) throws -> Set<String> {
        Set(
            try #require(reports).csv("changes.csv").filter { $0["outcome"] == outcome }.map { $0["customer_id"] ?? "" }
        )
    }

    @Test func aCompleteRunLeavesOnlyWhatStillDiffersAndAQuietNightSendsNothing() async throws {
        let harness = try await JobHarness()
        try Self.history(harness)
        #expect(try Self.compareEveryone(harness) == nil)
        let (first, firstReports) = await harness.run()
        #expect(first == .success)
        #expect(try Self.changed(firstReports, "synced") == ["c1", "c2", "c3"])
        #expect(try Self.compareEveryone(harness) == false)
        #expect(try Self.candidates(harness) == ["nobody"], "the skipped participant still differs")

        let requests = harness.simulator.statistics().requests
        let (quiet, quietReports) = await harness.run()
        #expect(quiet == .success)
        #expect(harness.simulator.statistics().requests == requests)
        #expect(try Self.changed(quietReports, "synced").isEmpty)
        #expect(try Self.changed(quietReports, "skipped") == ["nobody"], "still listed every night, with its reason")
        #expect(try #require(quietReports).csv("attributes.csv").count == 4, "attributes.csv lists everyone")
    }

    @Test func aLedgerRowChangedDeletedOrEmptiedByHandIsSentAgain() async throws {
        let harness = try await JobHarness()
        try Self.history(harness)
        _ = await harness.run()
        try harness.database.run(
            """
            UPDATE referral_sync_ledger SET successful_referrals = '9' WHERE customer_id = 'c1';
            DELETE FROM referral_sync_ledger WHERE customer_id = 'c2';
            """)
        #expect(try Self.candidates(harness) == ["nobody", "c1", "c2"])
        let (status, reports) = await harness.run()
        #expect(status == .success)
        #expect(try Self.changed(reports, "synced") == ["c1", "c2"])
        let c1 = try #require(reports).csv("changes.csv").filter { $0["customer_id"] == "c1" }
        #expect(c1.map { $0["attribute"] } == ["Okendo Number of Successful Referrals"])
        #expect(try Self.candidates(harness) == ["nobody"])

        try harness.database.run("TRUNCATE referral_sync_ledger")
        #expect(try Self.compareEveryone(harness) == true)
        let (again, againReports) = await harness.run()
        #expect(again == .success)
        #expect(try Self.changed(againReports, "synced") == ["c1", "c2", "c3"])
        #expect(try Self.compareEveryone(harness) == false)
    }

    @Test func aDryRunLeavesTheCandidatesForTheNextCompleteRun() async throws {
        let harness = try await JobHarness()
        try Self.history(harness)
        _ = await harness.run()
        try Self.anotherOrder(harness)

        let (dry, dryReports) = await harness.run(["--dry-run"])
        #expect(dry == .success)
        #expect(try Self.changed(dryReports, "dry_run") == ["c3"])
        #expect(try Self.candidates(harness) == ["nobody", "c3"])

        let (status, reports) = await harness.run()
        #expect(status == .success)
        #expect(try Self.changed(reports, "synced") == ["c3"])
        let profile = harness.simulator.profile(email: "c3@example.com")
        #expect(profile?.attributes["Okendo Total Successful Referral Revenue"] == "15.00")
        #expect(try Self.candidates(harness) == ["nobody"])
    }

    @Test func runsByShardSendTheChangeAndLeaveTheSettlingToACompleteRun() async throws {
        let harness = try await JobHarness()
        try Self.history(harness)
        _ = await harness.run()
        try Self.anotherOrder(harness)
        var synced: Set<String> = []
        for shard in ["1/2", "2/2"] {
            let (status, reports) = await harness.run(["--shard", shard])
            #expect(status == .success)
            synced.formUnion(try Self.changed(reports, "synced"))
        }
        #expect(synced == ["c3"])
        #expect(try Self.candidates(harness) == ["nobody", "c3"], "a shard does not settle")
        let (status, reports) = await harness.run()
        #expect(status == .success)
        #expect(try Self.changed(reports, "synced").isEmpty)
        #expect(try Self.candidates(harness) == ["nobody"])
    }

    /// A second successful referral of c3's, after the first run.
    static func anotherOrder(_ harness: JobHarness) throws {
        var more = ReferralHistory()
        more.referral("r-c3-2", by: "c3")
        more.order("o-c3-2", for: "r-c3-2", total: "5.00", at: "2024-11-09T00:00:00Z")
        try more.insert(into: harness.database)
    }
}
