import AttentiveSimulator
import Foundation
import Options
import ReferralModel
import TestSupport
import Testing

@testable import ReferralSyncCLI
@testable import ReferralSyncJob

/// Issue 16's refusals and changes on the way out (README "Identities", reports/README.md "warnings.csv"): an
/// identity the rules refuse beside a usable one, a link longer than Attentive shortens, a link with a
/// bidirectional control. Each is sent, listed with its reason, counted in the summary, exits 0, and is not sent
/// again by the next run.
@Suite struct OutboundWarningTests {
    /// A participant with one successful referral.
    static func referrer(
        _ history: inout ReferralHistory, _ id: String, email: String?, phone: String? = nil, link: String? = nil
    ) {
        history.customer(.init(id, email: email, phone: phone, link: link))
        history.referral("r-\(id)", by: id)
        history.order("o-\(id)", for: "r-\(id)", total: "10.00")
    }

    /// Runs `run` in-process with a logger that keeps its lines, and returns them with the result.
    static func run(_ harness: JobHarness) async throws -> (RunResult, ReportFiles, [String]) {
        let lines = CapturedText()
        let arguments = ["--reports-dir", harness.reportsDirectory, "--currency", "USD"]
        let options = try ParsedOptions(arguments, options: JobOptions.runOptions, environment: harness.environment)
        let configuration = try RunConfiguration(
            options: options, environment: harness.environment, arguments: arguments)
        let result = await SyncRun(
            configuration: configuration, logger: Logger(level: .info, sink: { lines.append($0) })
        ).execute()
        let reports = ReportFiles(path: harness.reportsDirectory + "/latest")
        return (result, reports, lines.text.split(separator: "\n").map(String.init))
    }

    /// The summary's "Warnings" row of `code`: its participants.
    static func summaryCount(_ markdown: String, _ code: String) -> Int? {
        let line = markdown.split(separator: "\n").first { $0.contains("| `\(code)` |") }
        return line.flatMap { Int($0.split(separator: "|").last?.trimmingCharacters(in: .whitespaces) ?? "") }
    }

    @Test func anEmailOverRFC5321sLengthsIsLeftOutAndTheParticipantSentByPhone() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        let local = String(repeating: "x", count: 300)
        Self.referrer(&history, "long", email: local + "@example.com", phone: "+14155550101")
        try history.insert(into: harness.database)

        let (result, reports, log) = try await Self.run(harness)
        #expect(result.status == .success)
        // Sent by phone, without the email: no request a mail platform would refuse every night.
        let profile = try #require(harness.simulator.profile(phone: "+14155550101"))
        #expect(profile.email == nil)
        #expect(profile.attributes[OkendoAttribute.successfulReferrals.rawValue] == "1")
        #expect(try reports.csv("changes.csv").allSatisfy { $0["outcome"] == "synced" })
        // Listed with the limit it breaks, and counted: not a rejected row.
        let warnings = try reports.csv("warnings.csv")
        #expect(warnings.map { $0["reason"] } == ["email_not_usable"])
        let detail = warnings.first?["detail"] ?? ""
        #expect(detail.contains("the part before the @ is 300 characters, RFC 5321 allows 64"))
        #expect(detail.contains("the address is 312 characters, RFC 5321 allows 254"))
        #expect(detail.hasSuffix("; sent by phone only"))
        #expect(try reports.csv("rejected_rows.csv").isEmpty)
        let summary = try reports.text("summary.md")
        let customers = try #require(try SummaryTable.inputRows(summary)["customers"])
        #expect(customers.counted == 1 && customers.rejected == 0 && customers.read == 1)
        #expect(summary.contains("Of the 1 customers counted, 1 have a warning"))
        #expect(Self.summaryCount(summary, "email_not_usable") == 1)
        #expect(log.contains { $0.contains("reason=email_not_usable") && $0.contains("level=warn") })

        // The next run sends nothing and still lists it, until the input is fixed.
        let requests = harness.simulator.statistics().requests
        let (again, second, _) = try await Self.run(harness)
        #expect(again.status == .success)
        #expect(harness.simulator.statistics().requests == requests)
        #expect(try second.csv("warnings.csv").map { $0["key"] } == ["long"])

        // explain tells support why the email is not sent, in the same words; the phone is.
        let output = CapturedText()
        let status = await ReferralSyncCommand.main(
            arguments: ["explain", "long", "--currency", "USD"], environment: harness.environment,
            output: { output.append($0) })
        #expect(status == .success)
        #expect(
            output.text.contains("- Email not sent: `")
                && output.text.contains("the part before the @ is 300 characters, RFC 5321 allows 64"), "\(output.text)"
        )
        #expect(!output.text.contains("- Phone not sent:"))
    }

    @Test func anEmailLabelOverSixtyThreeIsRefusedWithItsLength() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        Self.referrer(
            &history, "label", email: "a@" + String(repeating: "d", count: 64) + ".example", phone: "+14155550102")
        try history.insert(into: harness.database)
        let (result, reports, _) = try await Self.run(harness)
        #expect(result.status == .success)
        let detail = try reports.csv("warnings.csv").first?["detail"] ?? ""
        #expect(detail.contains("a label of the domain is 64 characters, RFC 5321 allows 63"))
        #expect(harness.simulator.profile(phone: "+14155550102") != nil)
    }

    @Test func aPhoneTheRulesRefuseIsLeftOutAndTheParticipantSentByEmail() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        Self.referrer(&history, "national", email: "n@example.com", phone: "(415) 555-0101")
        try history.insert(into: harness.database)
        let (result, reports, _) = try await Self.run(harness)
        #expect(result.status == .success)
        #expect(harness.simulator.profile(email: "n@example.com")?.phone == nil)
        let warnings = try reports.csv("warnings.csv")
        #expect(warnings.map { $0["reason"] } == ["phone_not_usable"])
        #expect(
            warnings.first?["detail"]
                == "phone \"(415) 555-0101\" is not E.164 (a national number needs --default-phone-region); "
                + "sent by email only")
    }

    @Test func aLinkOverAttentivesShorteningLimitIsSentAndWarnedAbout() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        let link = "https://shop.example/r/" + String(repeating: "a", count: 5_000 - 23)
        Self.referrer(&history, "longlink", email: "l@example.com", link: link)
        Self.referrer(&history, "edge", email: "e@example.com", link: String(repeating: "b", count: 1_024))
        try history.insert(into: harness.database)

        let (result, reports, log) = try await Self.run(harness)
        #expect(result.status == .success)
        #expect(
            harness.simulator.profile(email: "l@example.com")?.attributes[OkendoAttribute.shareableLink.rawValue]
                == link)
        let warnings = try reports.csv("warnings.csv")
        // 1,024 characters is within the limit.
        #expect(warnings.map { $0["key"] } == ["longlink"])
        #expect(warnings.first?["reason"] == "link_too_long")
        #expect(warnings.first?["detail"]?.hasPrefix("shareable_link is 5000 characters") == true)
        let summary = try reports.text("summary.md")
        #expect(Self.summaryCount(summary, "link_too_long") == 1)
        #expect(log.contains { $0.contains("reason=link_too_long") && $0.contains("participants=1") })
        #expect(result.counts.warningsByReason == ["link_too_long": 1])

        let requests = harness.simulator.statistics().requests
        let (again, _, _) = try await Self.run(harness)
        #expect(again.status == .success)
        #expect(harness.simulator.statistics().requests == requests)
    }

    @Test func aLinkWithARightToLeftOverrideIsSentCleanedAndCounted() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        Self.referrer(&history, "bidi", email: "b@example.com", link: "https://shop.example/r/\u{202E}fdp.exe\u{202C}")
        Self.referrer(&history, "plain", email: "p@example.com", link: "https://shop.example/r/plain")
        try history.insert(into: harness.database)

        let (result, reports, log) = try await Self.run(harness)
        #expect(result.status == .success)
        let sent = harness.simulator.profile(email: "b@example.com")?.attributes[OkendoAttribute.shareableLink.rawValue]
        #expect(sent == "https://shop.example/r/fdp.exe")
        let warnings = try reports.csv("warnings.csv")
        #expect(warnings.map { $0["key"] } == ["bidi"])
        #expect(warnings.first?["reason"] == "link_cleaned")
        #expect(warnings.first?["detail"]?.contains("2 characters removed: U+202C, U+202E") == true)
        #expect(Self.summaryCount(try reports.text("summary.md"), "link_cleaned") == 1)
        #expect(log.contains { $0.contains("msg=\"run finished\"") && $0.contains("links_cleaned=1") })

        // The ledger holds the cleaned link: the next run sends nothing.
        let requests = harness.simulator.statistics().requests
        let (again, second, _) = try await Self.run(harness)
        #expect(again.status == .success)
        #expect(harness.simulator.statistics().requests == requests)
        #expect(Self.summaryCount(try second.text("summary.md"), "link_cleaned") == 1)

        // explain shows the link as sent, and why it differs from the stored one.
        let output = CapturedText()
        let status = await ReferralSyncCommand.main(
            arguments: ["explain", "bidi", "--currency", "USD"], environment: harness.environment,
            output: { output.append($0) })
        #expect(status == .success)
        let row = output.text.split(separator: "\n").first { $0.hasPrefix("| shareable link |") } ?? ""
        #expect(row.hasSuffix("| `https://shop.example/r/fdp.exe` |"), "\(row)")
        #expect(output.text.contains("removed on the way out (warnings.csv: link_cleaned)"))
    }

    @Test func aParticipantWithAnIdentityProblemIsRejectedNotWarned() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        let long = String(repeating: "x", count: 65) + "@example.com"
        Self.referrer(&history, "c1", email: long, phone: "+14155550103", link: String(repeating: "l", count: 2_000))
        Self.referrer(&history, "c2", email: "c2@example.com", phone: "+1 415 555 0103")
        Self.referrer(&history, "c3", email: long, phone: nil)
        try history.insert(into: harness.database)
        let (result, reports, _) = try await Self.run(harness)
        #expect(result.status == .success)
        #expect(try reports.csv("warnings.csv").isEmpty)
        let rejected = try reports.csv("rejected_rows.csv")
        #expect(rejected.map { $0["reason"] } == ["duplicate_identity", "duplicate_identity", "no_usable_identity"])
        #expect(
            rejected.last?["detail"]
                == "no usable identity: email \"\(long)\" is not a valid address (the part before the @ is 65 "
                + "characters, RFC 5321 allows 64), phone missing")
    }
}
