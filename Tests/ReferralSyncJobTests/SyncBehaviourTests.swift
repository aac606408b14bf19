import AttentiveSimulator
import TestSupport
import Testing

@testable import ReferralSyncCLI
@testable import ReferralSyncJob

/// The ledger rule, idempotence, dry runs, rejected rows and identities, on a real database and the simulator.
@Suite struct SyncBehaviourTests {
    static func oneReferrer(_ harness: JobHarness, email: String = "ocean@example.com", phone: String? = "+14155550101")
        throws
    {
        var history = ReferralHistory()
        history.customer(.init("c1", email: email, phone: phone, link: "https://test.oken.do/c1"))
        history.referral("r1", by: "c1")
        history.order("o1", for: "r1", total: "50.00", at: "2024-11-08T06:10:36.989Z")
        try history.insert(into: harness.database)
    }

    @Test func sendsEveryAttributeAsAStringToAttentive() async throws {
        let harness = try await JobHarness()
        try Self.oneReferrer(harness)
        let (status, reports) = await harness.run()
        #expect(status == .success)
        let profile = try #require(harness.simulator.profile(email: "ocean@example.com"))
        #expect(profile.phone == "+14155550101")
        #expect(
            profile.attributes == [
                "Okendo Referral Shareable Link": "https://test.oken.do/c1",
                "Okendo Number of Successful Referrals": "1",
                "Okendo Latest Successful Referral Date": "2024-11-08T06:10:36.989Z",
                "Okendo Total Successful Referral Revenue": "50.00",
            ])
        let changes = try #require(reports).csv("changes.csv")
        #expect(changes.count == 4)
        #expect(
            changes.allSatisfy { $0["outcome"] == "synced" && $0["http_status"] == "200" && $0["previous_value"] == "" }
        )
    }

    @Test func secondRunOverUnchangedDataSendsNothing() async throws {
        let harness = try await JobHarness()
        try Self.oneReferrer(harness)
        _ = await harness.run()
        let requestsAfterFirst = harness.simulator.statistics().requests
        let (status, reports) = await harness.run()
        #expect(status == .success)
        #expect(harness.simulator.statistics().requests == requestsAfterFirst)
        #expect(try #require(reports).csv("changes.csv").isEmpty)
    }

    @Test func onlyChangedAttributesAreSentNextTime() async throws {
        let harness = try await JobHarness()
        try Self.oneReferrer(harness)
        _ = await harness.run()
        var more = ReferralHistory()
        more.referral("r2", by: "c1")
        more.order("o2", for: "r2", total: "25.00", at: "2024-11-01T00:00:00Z")
        try more.insert(into: harness.database)

        let (_, reports) = await harness.run()
        let changes = try #require(reports).csv("changes.csv")
        #expect(
            Set(changes.map { $0["attribute"] ?? "" }) == [
                "Okendo Number of Successful Referrals", "Okendo Total Successful Referral Revenue",
            ])
        let count = changes.first { $0["attribute"] == "Okendo Number of Successful Referrals" }
        #expect(count?["previous_value"] == "1")
        #expect(count?["new_value"] == "2")
        #expect(
            harness.simulator.profile(email: "ocean@example.com")?.attributes[
                "Okendo Total Successful Referral Revenue"] == "75.00")
    }

    @Test func failedValueStaysPendingAndIsRetriedNextRun() async throws {
        // 404: a failure the next run retries (a 400 is a refusal, README "Refusals": RefusalTests).
        let harness = try await JobHarness {
            $0.faults.badIdentities = ["ocean@example.com"]
            $0.faults.rejectionStatus = 404
        }
        try Self.oneReferrer(harness)
        let (status, reports) = await harness.run()
        #expect(status == .needsAttention)
        let changes = try #require(reports).csv("changes.csv")
        #expect(changes.allSatisfy { $0["outcome"] == "failed" && $0["http_status"] == "404" && $0["error"] != "" })
        #expect(try harness.database.query("SELECT count(*) FROM referral_sync_ledger").first?.int(0) == 0)
        let pending = try harness.database.query("SELECT count(*), min(state) FROM referral_sync_pending")
        #expect(pending.first?.int(0) == 4)
        #expect(pending.first?[1] == "failed")
        #expect(harness.simulator.profile(email: "ocean@example.com") == nil)

        var healed = SimulatorConfiguration(apiKey: harness.apiKey)
        healed.faults.badIdentities = []
        harness.simulator.update(configuration: healed)
        let (retryStatus, retried) = await harness.run()
        #expect(retryStatus == .success)
        #expect(try #require(retried).csv("changes.csv").allSatisfy { $0["outcome"] == "synced" })
        #expect(try harness.database.query("SELECT count(*) FROM referral_sync_pending").first?.int(0) == 0)
        #expect(harness.simulator.profile(email: "ocean@example.com")?.attributes.count == 4)
    }

    @Test func dryRunSendsNothingAndWritesWhatWouldBeSent() async throws {
        let harness = try await JobHarness()
        try Self.oneReferrer(harness)
        let (status, reports) = await harness.run(["--dry-run"])
        #expect(status == .success)
        #expect(harness.simulator.statistics().requests == 0)
        let files = try #require(reports)
        #expect(try files.csv("changes.csv").allSatisfy { $0["outcome"] == "dry_run" })
        let request = try files.text("dry_run_requests.jsonl")
        #expect(request.contains("\"Okendo Total Successful Referral Revenue\":\"50.00\""))
        #expect(request.contains("\"email\":\"ocean@example.com\""))
        #expect(try harness.database.query("SELECT count(*) FROM referral_sync_ledger").first?.int(0) == 0)
        // A real run afterwards still sends everything.
        let (_, real) = await harness.run()
        #expect(try #require(real).csv("changes.csv").filter { $0["outcome"] == "synced" }.count == 4)
    }

    @Test func newIdentityGetsEveryAttribute() async throws {
        let harness = try await JobHarness()
        try Self.oneReferrer(harness)
        _ = await harness.run()
        try harness.database.run(
            "UPDATE customers SET email = 'ocean.new@example.com', phone = NULL WHERE customer_id = 'c1'")
        let (_, reports) = await harness.run()
        let changes = try #require(reports).csv("changes.csv")
        #expect(changes.count == 4)
        #expect(changes.allSatisfy { $0["outcome"] == "synced" }, "\(changes)")
        #expect(harness.simulator.profile(email: "ocean.new@example.com")?.attributes.count == 4)
    }

    @Test func attributeThatLosesItsValueIsCleared() async throws {
        let harness = try await JobHarness()
        try Self.oneReferrer(harness)
        _ = await harness.run()
        var rejection = ReferralHistory()
        rejection.rejection(of: "r1", at: "2024-11-09T00:00:00Z")
        try rejection.insert(into: harness.database)
        let (_, reports) = await harness.run()
        let latest = try #require(reports).csv("changes.csv").first {
            $0["attribute"] == "Okendo Latest Successful Referral Date"
        }
        #expect(latest?["new_value"] == "")
        #expect(latest?["previous_value"] == "2024-11-08T06:10:36.989Z")
        let attributes = harness.simulator.profile(email: "ocean@example.com")?.attributes
        #expect(attributes?["Okendo Latest Successful Referral Date"] == "")
        #expect(attributes?["Okendo Number of Successful Referrals"] == "0")
        #expect(attributes?["Okendo Total Successful Referral Revenue"] == "0.00")
    }

    @Test func participantWithNoValidIdentityIsReportedAndSkipped() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        history.customer(.init("nobody", email: "not-an-email", phone: "555-0106"))
        history.customer(.init("email-only", email: " Mixed.Case@Example.COM ", phone: "12345"))
        try history.insert(into: harness.database)
        let (status, reports) = await harness.run(["--currency", "USD"])
        #expect(status == .success)
        let files = try #require(reports)
        #expect(JobHarness.row(try files.csv("attributes.csv"), "nobody") != nil)
        let skipped = try files.csv("changes.csv").filter { $0["customer_id"] == "nobody" }
        #expect(
            !skipped.isEmpty
                && skipped.allSatisfy { $0["outcome"] == "skipped" && ($0["error"] ?? "").contains("identity") })
        // The invalid phone is simply not sent; the email is normalised.
        let profile = try #require(harness.simulator.profile(email: "mixed.case@example.com"))
        #expect(profile.phone == nil)
        #expect(harness.simulator.profiles().count == 1)
    }

    @Test func semanticallyBadRowsNeverCountAndAreListed() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        history.customer(.init("c1", email: "Ocean@Example.com"))
        history.customer(.init("c2", email: "friend@example.com"))
        history.referral("good", by: "c1", at: "2024-02-01T00:00:00Z")
        history.referral("self-id", by: "c1", recipientCustomer: "c1")
        history.referral("self-email", by: "c1", recipientEmail: "OCEAN@example.COM")
        history.referral("early", by: "c1", at: "2024-03-10T00:00:00Z")
        history.referral("negative", by: "c1")
        history.referral("foreign", by: "c1")
        history.order("o-good", for: "good", total: "10.00")
        history.order("o-self-id", for: "self-id", total: "10.00")
        history.order("o-self-email", for: "self-email", total: "10.00")
        history.order("o-early", for: "early", total: "10.00", at: "2024-03-01T00:00:00Z")
        history.order("o-negative", for: "negative", total: "-5.00")
        history.order("o-foreign", for: "foreign", total: "10.00", currency: "CAD")
        try history.insert(into: harness.database)

        let (status, reports) = await harness.run(["--currency", "USD"])
        #expect(status == .success)
        let files = try #require(reports)
        #expect(JobHarness.row(try files.csv("attributes.csv"), "c1")?["successful_referrals"] == "1")
        let reasons = Dictionary(
            uniqueKeysWithValues: try files.csv("rejected_rows.csv").map {
                (($0["table"] ?? "") + "/" + ($0["key"] ?? ""), $0["reason"] ?? "")
            })
        #expect(reasons["referrals/self-id"] == "self_referral_by_customer_id")
        #expect(reasons["referrals/self-email"] == "self_referral_by_email")
        #expect(reasons["referral_orders/o-early"] == "redeemed_before_referral_created")
        #expect(reasons["referral_orders/o-negative"] == "negative_total")
        #expect(reasons["referral_orders/o-foreign"] == "currency_mismatch")
        #expect(reasons["referral_orders/o-self-id"] == "referral_not_counted")
        #expect(try files.text("summary.md").contains("| negative_total | 1 |"))
    }

    @Test func severalCurrenciesWithoutASettingIsAConfigurationError() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        history.customer(.init("c1", email: "c1@example.com"))
        history.referral("r1", by: "c1")
        history.referral("r2", by: "c1")
        history.order("o1", for: "r1", total: "1", currency: "USD")
        history.order("o2", for: "r2", total: "1", currency: "CAD")
        try history.insert(into: harness.database)
        let (status, _) = await harness.run()
        #expect(status == .configuration)
        let (configured, reports) = await harness.run(environment: ["REFERRAL_SHOP_CURRENCY": "cad"])
        #expect(configured == .success)
        #expect(try JobHarness.row(reports, "attributes.csv", "c1")?["currency"] == "CAD")
    }

    @Test func unmigratedDatabaseTellsTheUserToMigrate() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let status = await ReferralSyncCommand.main(
            arguments: ["run", "--dry-run", "--quiet"], environment: ["DATABASE_URL": database.conninfo],
            output: { _ in })
        #expect(status == .configuration)
    }
}
