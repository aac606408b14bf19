import AttentiveSimulator
import Foundation
import TestSupport
import Testing

@testable import ReferralSyncCLI
@testable import ReferralSyncJob

/// README "Identities": how stored emails and phones become the identity Attentive gets, and what happens when
/// they cannot: each case on a real database, with the rows it produces and the job's exit status.
@Suite struct IdentityTests {
    /// A referrer with one successful referral worth `total`.
    static func referrer(
        _ history: inout ReferralHistory, _ id: String, email: String?, phone: String? = nil, total: String = "10.00"
    ) {
        history.customer(.init(id, email: email, phone: phone))
        history.referral("r-\(id)", by: id)
        history.order("o-\(id)", for: "r-\(id)", total: total)
    }

    @Test func duplicateEmailAcrossCustomersIsReportedAndNeitherIsSent() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        Self.referrer(&history, "c1", email: "Ocean@Example.com", total: "10.00")
        Self.referrer(&history, "c2", email: "  ocean@example.COM ", total: "99.00")
        Self.referrer(&history, "c3", email: "river@example.com")
        try history.insert(into: harness.database)

        let (status, reports, message) = await harness.runCapturingMessage()
        #expect(status == .success)
        #expect(message.isEmpty)
        let files = try #require(reports)
        // Both keep their own true figures in the report...
        let attributes = try files.csv("attributes.csv")
        #expect(JobHarness.row(attributes, "c1")?["total_successful_referral_revenue"] == "10.00")
        #expect(JobHarness.row(attributes, "c2")?["total_successful_referral_revenue"] == "99.00")
        // ...but one Attentive profile cannot hold two customers' values: neither is sent.
        #expect(harness.simulator.profile(email: "ocean@example.com") == nil)
        #expect(harness.simulator.profile(email: "river@example.com") != nil)
        let changes = try files.csv("changes.csv")
        for (customer, other) in [("c1", "c2"), ("c2", "c1")] {
            let rows = changes.filter { $0["customer_id"] == customer }
            #expect(rows.count == 3, "count, latest and revenue: there is no link")
            #expect(rows.allSatisfy { $0["outcome"] == "skipped" })
            #expect(
                rows.allSatisfy { ($0["error"] ?? "").contains("email ocean@example.com is also customer \(other)") })
        }
        let rejected = try files.csv("rejected_rows.csv").filter { $0["table"] == "customers" }
        #expect(rejected.map { $0["key"] } == ["c1", "c2"])
        #expect(rejected.allSatisfy { $0["reason"] == "duplicate_identity" })
        #expect(try files.text("summary.md").contains("| customers | duplicate_identity | 2 |"))
        // The collision stays pending until the input is fixed, and is not a failure.
        let pending = try harness.database.query("SELECT DISTINCT state FROM referral_sync_pending")
        #expect(pending.map { $0[0] } == ["skipped"])
    }

    @Test func duplicatePhoneAfterNormalisationIsACollisionToo() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        Self.referrer(&history, "a", email: "a@example.com", phone: "+1 415 555 0101")
        Self.referrer(&history, "b", email: "b@example.com", phone: "+1 (415) 555-0101")
        Self.referrer(&history, "c", email: "c@example.com", phone: "0044 20 7946 0958")
        try history.insert(into: harness.database)

        let (status, reports) = await harness.run()
        #expect(status == .success)
        let files = try #require(reports)
        let reasons = try files.csv("rejected_rows.csv").filter { $0["table"] == "customers" }
        #expect(reasons.map { $0["key"] } == ["a", "b"])
        #expect(reasons.first?["detail"]?.contains("phone +14155550101 is also customer b") == true)
        #expect(harness.simulator.profiles().map(\.email) == ["c@example.com"])
        // 00 is read as +.
        #expect(harness.simulator.profile(email: "c@example.com")?.phone == "+442079460958")
    }

    @Test func threeCustomersSharingAnEmailNameOneAndCountTheRest() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        for id in ["k1", "k2", "k3"] { history.customer(.init(id, email: "family@example.com")) }
        try history.insert(into: harness.database)
        let (status, reports) = await harness.run(["--currency", "USD"])
        #expect(status == .success)
        let details = try #require(reports).csv("rejected_rows.csv").map { $0["detail"] ?? "" }
        #expect(details.count == 3)
        #expect(details[0].hasSuffix("email family@example.com is also customer k2 and 1 more"))
        #expect(details[1].hasSuffix("email family@example.com is also customer k1 and 1 more"))
        #expect(harness.simulator.profiles().isEmpty)
    }

    @Test func emailsAreTrimmedAndLowerCased() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        // Tab, no-break space and a byte-order mark, as spreadsheet exports leave them.
        Self.referrer(&history, "c1", email: "\u{FEFF}\t Mixed.Case@EXAMPLE.Com\u{00A0}\n")
        try history.insert(into: harness.database)
        let (status, reports) = await harness.run()
        #expect(status == .success)
        #expect(harness.simulator.profile(email: "mixed.case@example.com")?.attributes.count == 3)
        // The report keeps the value as stored.
        let row = try JobHarness.row(reports, "attributes.csv", "c1")
        #expect(row?["email"]?.unicodeScalars.first == "\u{FEFF}")
    }

    @Test func unicodeNamesAndEmailsAreSentInComposedLowerCase() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        history.customer(.init("u1", email: "JOSÉ.Zoë@Exämple.COM", firstName: "Zoë 李 Ødegård"))
        // A decomposed é (e + U+0301), as some systems store it.
        history.customer(.init("u2", email: "rene\u{0301}@example.com", firstName: "René"))
        try history.insert(into: harness.database)
        let (status, reports) = await harness.run(["--currency", "USD"])
        #expect(status == .success)
        let emails = harness.simulator.profiles().compactMap(\.email).map { Array($0.unicodeScalars) }
        #expect(emails.contains(Array("josé.zoë@exämple.com".precomposedStringWithCanonicalMapping.unicodeScalars)))
        #expect(emails.contains(Array("ren\u{00E9}@example.com".unicodeScalars)))
        let row = try JobHarness.row(reports, "attributes.csv", "u1")
        #expect(row?["email"] == "JOSÉ.Zoë@Exämple.COM")
    }

    @Test func nationalPhonesAreSentOnlyWithADefaultRegion() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        Self.referrer(&history, "n1", email: nil, phone: "(415) 555-0101")
        Self.referrer(&history, "n2", email: nil, phone: "1-212-555-0199")
        Self.referrer(&history, "n3", email: nil, phone: "020 7946 0958")
        try history.insert(into: harness.database)

        let (without, first) = await harness.run()
        #expect(without == .success)
        #expect(harness.simulator.profiles().isEmpty)
        let skipped = try #require(first).csv("changes.csv").filter { $0["customer_id"] == "n1" }
        #expect(skipped.allSatisfy { $0["outcome"] == "skipped" })
        #expect(skipped.first?["error"]?.contains("a national number needs --default-phone-region") == true)

        let (with, second) = await harness.run(environment: ["REFERRAL_SYNC_DEFAULT_PHONE_REGION": "us"])
        #expect(with == .success)
        #expect(harness.simulator.profile(phone: "+14155550101")?.attributes.count == 3)
        #expect(harness.simulator.profile(phone: "+12125550199")?.attributes.count == 3)
        // A UK national number is not a US one: still not sent, and the reason says so.
        let uk = try #require(second).csv("rejected_rows.csv").first { $0["key"] == "n3" }
        #expect(uk?["reason"] == "no_usable_identity")
        #expect(uk?["detail"]?.contains("\"020 7946 0958\" is neither E.164 nor a US national number") == true)
        #expect(harness.simulator.profiles().count == 2)
    }

    @Test func referrerWithoutEmailOrPhoneIsSkippedButItsRowsCount() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        Self.referrer(&history, "ghost", email: nil, phone: nil, total: "42.50")
        try history.insert(into: harness.database)

        let (status, reports, message) = await harness.runCapturingMessage()
        #expect(status == .success)
        #expect(message.isEmpty)
        let files = try #require(reports)
        let row = try #require(JobHarness.row(try files.csv("attributes.csv"), "ghost"))
        #expect(row["successful_referrals"] == "1")
        #expect(row["total_successful_referral_revenue"] == "42.50")
        let changes = try files.csv("changes.csv")
        #expect(changes.count == 3)
        #expect(
            changes.allSatisfy {
                $0["outcome"] == "skipped" && $0["error"] == "no usable identity: email missing, phone missing"
            })
        // The customer row is listed; its referral and order are not: they count.
        let rejected = try files.csv("rejected_rows.csv")
        #expect(rejected.map { $0["table"] } == ["customers"])
        #expect(rejected.first?["reason"] == "no_usable_identity")
        #expect(harness.simulator.statistics().requests == 0)
    }
}
