import AttentiveSimulator
import Foundation
import ReferralModel
import TestSupport
import Testing

@testable import ReferralSyncCLI
@testable import ReferralSyncJob

/// README "Support: explain a customer": `referral-sync explain CUSTOMER` on a real database, against the
/// reports of a run at the same as-of and what the simulator holds after a sync.
@Suite struct ExplainTests {
    static let asOf = "2024-06-01T00:00:00Z"
    /// Ann's `usd` order is a foreign currency: the shop's is set, as a shop with such rows must.
    static let shop = ["REFERRAL_SHOP_CURRENCY": "USD"]

    /// A run of `referral-sync run` at the explained as-of, in the shop currency.
    static func run(_ harness: JobHarness, _ arguments: [String] = []) async -> (
        ReferralSyncJob.ExitStatus, ReportFiles?
    ) {
        await harness.run(["--as-of", asOf] + arguments, environment: shop)
    }

    /// Runs `referral-sync explain` in-process: its status, standard output and closing line.
    static func explain(_ harness: JobHarness, _ arguments: [String]) async -> (
        status: ReferralSyncJob.ExitStatus, output: String, message: String
    ) {
        let output = CapturedText()
        let message = CapturedText()
        let status = await ReferralSyncCommand.$errorOutput.withValue({ message.append($0) }) {
            await ReferralSyncCommand.main(
                arguments: ["explain"] + arguments, environment: harness.environment.merging(shop) { $1 },
                output: { output.append($0) })
        }
        return (status, output.text, message.text)
    }

    /// The `--format json` document of `customer`.
    static func document(_ harness: JobHarness, _ customer: String, _ extra: [String] = []) async throws
        -> CustomerExplanation
    {
        let result = await explain(harness, [customer, "--as-of", asOf, "--format", "json"] + extra)
        #expect(result.status == .success, "\(result.message)")
        let decoder = JSONDecoder()
        // snake_case back to the Swift names, `id` as `ID` (`customer_id` is `customerID`).
        decoder.keyDecodingStrategy = .custom { path in
            let parts = (path.last?.stringValue ?? "").split(separator: "_").enumerated().map { index, part in
                part == "id" ? "ID" : index == 0 ? String(part) : part.prefix(1).uppercased() + part.dropFirst()
            }
            return AnyKey(parts.joined())
        }
        return try decoder.decode(CustomerExplanation.self, from: Data(result.output.utf8))
    }

    /// Ann, who made a referral for every "why not" at once, plus two that count.
    static func annWithEveryReason() -> ReferralHistory {
        var history = ReferralHistory()
        history.customer(.init("ann", email: " Ann@Example.com", phone: "+1 (415) 555-0101", link: "https://l/ann"))
        history.customer(.init("bob", email: "bob@example.com"))
        history.referral("r01-counts", by: "ann", at: "2024-02-01T00:00:00Z")
        history.order("o01a", for: "r01-counts", total: "10.005", at: "2024-03-01T00:00:00Z")
        history.order("o01b", for: "r01-counts", total: "99.00", at: "2024-03-02T00:00:00Z")
        history.referral("r02-rejected", by: "ann", at: "2024-02-02T00:00:00Z")
        history.order("o02", for: "r02-rejected", total: "20.00", at: "2024-03-01T00:00:00Z")
        history.rejection(of: "r02-rejected", at: "2024-02-15T00:00:00Z")
        history.referral("r03-no-order", by: "ann", at: "2024-02-03T00:00:00Z")
        history.referral("r04-late-order", by: "ann", at: "2024-02-04T00:00:00Z")
        history.order("o04", for: "r04-late-order", total: "30.00", at: "2024-07-01T00:00:00Z")
        history.referral("r05-early-order", by: "ann", at: "2024-02-05T00:00:00Z")
        history.order("o05", for: "r05-early-order", total: "40.00", at: "2024-01-15T00:00:00Z")
        history.referral("r06-self-id", by: "ann", recipientCustomer: "ann", at: "2024-02-06T00:00:00Z")
        history.order("o06", for: "r06-self-id", total: "50.00", at: "2024-03-01T00:00:00Z")
        history.referral("r07-self-email", by: "ann", recipientEmail: "ANN@example.com ", at: "2024-02-07T00:00:00Z")
        history.referral("r08-currency", by: "ann", at: "2024-02-08T00:00:00Z")
        history.order("o08", for: "r08-currency", total: "60.00", currency: "usd", at: "2024-03-01T00:00:00Z")
        history.referral("r09-negative", by: "ann", at: "2024-02-09T00:00:00Z")
        history.order("o09", for: "r09-negative", total: "-1.00", at: "2024-03-01T00:00:00Z")
        history.referral("r10-nan", by: "ann", at: "2024-02-10T00:00:00Z")
        history.order("o10", for: "r10-nan", total: "NaN", at: "2024-03-01T00:00:00Z")
        history.referral("r11-rejected-later", by: "ann", recipientCustomer: "bob", at: "2024-02-11T00:00:00Z")
        history.order("o11", for: "r11-rejected-later", total: "0.005", at: "2024-04-01T00:00:00Z")
        history.rejection(of: "r11-rejected-later", at: "2024-07-01T00:00:00Z")
        history.referral("r12-future", by: "ann", at: "2024-08-01T00:00:00Z")
        return history
    }

    @Test func everyWhyNotReasonIsExplainedWithTheCodeAndWordsOfRejectedRows() async throws {
        let harness = try await JobHarness()
        try Self.annWithEveryReason().insert(into: harness.database)
        let (status, reports) = await Self.run(harness, ["--dry-run"])
        #expect(status == .success)
        let rejected = try #require(reports).csv("rejected_rows.csv")
        let explanation = try await Self.document(harness, "ann")

        let expected: [(String, Bool, String?, String)] = [
            ("r01-counts", true, nil, "counts"), ("r02-rejected", false, "referral_rejected", "referral_rejected"),
            ("r03-no-order", false, nil, "no_order"), ("r04-late-order", false, nil, "no_order_counts"),
            ("r05-early-order", false, nil, "no_order_counts"),
            ("r06-self-id", false, "self_referral_by_customer_id", "self_referral_by_customer_id"),
            ("r07-self-email", false, "self_referral_by_email", "self_referral_by_email"),
            ("r08-currency", false, nil, "no_order_counts"), ("r09-negative", false, nil, "no_order_counts"),
            ("r10-nan", false, nil, "no_order_counts"), ("r11-rejected-later", true, nil, "counts"),
            ("r12-future", false, "created_after_as_of", "created_after_as_of"),
        ]
        #expect(explanation.referrals.map(\.referralID) == expected.map(\.0), "in time order")
        for (referral, (id, counts, code, status)) in zip(explanation.referrals, expected) {
            #expect(referral.counts == counts, "\(id)")
            #expect(referral.reasonCode == code, "\(id)")
            #expect(referral.status == status, "\(id)")
        }
        let byID = Dictionary(uniqueKeysWithValues: explanation.referrals.map { ($0.referralID, $0) })
        #expect(byID["r03-no-order"]?.reason == "no order yet")
        #expect(byID["r02-rejected"]?.reason.contains("rejected (manual: test) at 2024-02-15T00:00:00.000Z") == true)
        #expect(byID["r11-rejected-later"]?.reason.contains("rejected_after_as_of") == true)
        #expect(byID["r11-rejected-later"]?.rejection?.applies == false)
        // Each order's code and words are exactly those of rejected_rows.csv of a run at the same as-of.
        let orderCodes: [String: String] = [
            "o01b": "not_first_order_of_referral", "o02": "referral_rejected", "o04": "redeemed_after_as_of",
            "o05": "redeemed_before_referral_created", "o06": "referral_not_counted", "o08": "currency_mismatch",
            "o09": "negative_total", "o10": "total_not_finite",
        ]
        let orders = explanation.referrals.flatMap(\.orders)
        #expect(orders.filter(\.counts).map(\.orderID) == ["o01a", "o11"])
        for order in orders where !order.counts {
            let row = rejected.first { $0["table"] == "referral_orders" && $0["key"] == order.orderID }
            #expect(order.reasonCode == orderCodes[order.orderID], "\(order.orderID)")
            #expect(order.reasonCode == row?["reason"], "\(order.orderID)")
            #expect(order.reason == row?["detail"], "\(order.orderID)")
        }
        #expect(orders.first { $0.orderID == "o01b" }?.reason.contains("first order o01a") == true)
        for referral in explanation.referrals where referral.reasonCode?.hasPrefix("self") == true {
            let row = rejected.first { $0["table"] == "referrals" && $0["key"] == referral.referralID }
            #expect(referral.reason == row?["detail"])
        }
        // How the attributes follow: two qualifying orders, the later one's date, the sum rounded once.
        let attributes = Dictionary(uniqueKeysWithValues: explanation.attributes.map { ($0.name, $0) })
        #expect(attributes[OkendoAttribute.successfulReferrals.rawValue]?.how.contains("o01a, o11") == true)
        #expect(attributes[OkendoAttribute.latestSuccessfulReferralDate.rawValue]?.how.contains("o11") == true)
        let revenue = try #require(attributes[OkendoAttribute.totalSuccessfulReferralRevenue.rawValue])
        #expect(revenue.value == "10.01")
        #expect(revenue.how.contains("10.005 (o01a) + 0.005 (o11) = 10.010 exactly"))
        #expect(explanation.customer.sentEmail == "ann@example.com")
        #expect(explanation.customer.sentPhone == "+14155550101")
        #expect(explanation.customer.participant)

        // The Markdown says each of it in a line.
        let markdown = await Self.explain(harness, ["ann", "--as-of", Self.asOf]).output
        for line in [
            "### `r03-no-order`: does not count", "Why: `no order yet`", "`not_first_order_of_referral`",
            "`redeemed_before_referral_created`", "`currency_mismatch`", "`negative_total`", "`total_not_finite`",
            "Why: `self_referral_by_email`: ", "Why: `created_after_as_of`: ", "`redeemed_after_as_of`",
            "## 2. Referrals (12 made, 2 count)", "| Okendo Total Successful Referral Revenue | `10.01` |",
        ] {
            #expect(markdown.contains(line), "\(line)")
        }
    }

    @Test func explainedValuesEqualAttributesCSVAndAttentiveAfterASync() async throws {
        let harness = try await JobHarness()
        try Self.annWithEveryReason().insert(into: harness.database)
        let (status, reports) = await Self.run(harness)
        #expect(status == .success)
        let row = try #require(try JobHarness.row(reports, "attributes.csv", "ann"))
        let explanation = try await Self.document(harness, "ann")
        let values = Dictionary(uniqueKeysWithValues: explanation.attributes.map { ($0.name, $0.value ?? "") })
        #expect(values[OkendoAttribute.successfulReferrals.rawValue] == row["successful_referrals"])
        #expect(values[OkendoAttribute.latestSuccessfulReferralDate.rawValue] == row["latest_successful_referral_at"])
        #expect(
            values[OkendoAttribute.totalSuccessfulReferralRevenue.rawValue] == row["total_successful_referral_revenue"])
        #expect(values[OkendoAttribute.shareableLink.rawValue] == row["shareable_link"])
        let profile = try #require(harness.simulator.profile(email: "ann@example.com"))
        for attribute in OkendoAttribute.allCases {
            #expect(profile.attributes[attribute.rawValue] == values[attribute.rawValue], "\(attribute)")
        }
        #expect(explanation.attentive.ledger?.values.map(\.value) == explanation.attributes.map(\.value))
        #expect(explanation.attentive.nextRun.action == "nothing")
    }

    @Test func ledgerSectionAfterAFailedSendAndThenASuccessfulOne() async throws {
        // 404: a failure the next run retries (a 400 is a refusal, README "Refusals").
        let harness = try await JobHarness {
            $0.faults.badIdentities = ["ann@example.com"]
            $0.faults.rejectionStatus = 404
        }
        try Self.annWithEveryReason().insert(into: harness.database)
        let (failed, _) = await Self.run(harness)
        #expect(failed == .needsAttention)
        let afterFailure = try await Self.document(harness, "ann")
        #expect(afterFailure.attentive.ledger == nil)
        #expect(afterFailure.attentive.pending.count == 4)
        #expect(afterFailure.attentive.pending.allSatisfy { $0.state == "failed" && $0.httpStatus == 404 })
        #expect(afterFailure.attentive.pending.allSatisfy { $0.attempts == 1 && $0.error?.isEmpty == false })
        #expect(afterFailure.attentive.nextRun.action == "send")
        #expect(afterFailure.attentive.nextRun.requestBody?.contains(#""email":"ann@example.com""#) == true)
        let failedMarkdown = await Self.explain(harness, ["ann", "--as-of", Self.asOf]).output
        #expect(failedMarkdown.contains("Ledger: Attentive has accepted nothing for this customer."))
        #expect(failedMarkdown.contains("| `failed` | 1 | 404 |"))
        #expect(failedMarkdown.contains("The next run: **send**"))

        var configuration = harness.simulator.configuration
        configuration.faults.badIdentities = []
        harness.simulator.update(configuration: configuration)
        let (synced, _) = await Self.run(harness)
        #expect(synced == .success)
        let afterSuccess = try await Self.document(harness, "ann")
        let ledger = try #require(afterSuccess.attentive.ledger)
        #expect(ledger.email == "ann@example.com")
        #expect(ledger.runCommand == "run")
        let lastRun = try harness.database.query("SELECT max(run_id)::text, max(run_key) FROM referral_sync_runs")
        #expect(ledger.runID.map(String.init) == lastRun.first?[0])
        #expect(ledger.values.map(\.value) == afterSuccess.attributes.map(\.value))
        #expect(afterSuccess.attentive.pending.isEmpty)
        #expect(afterSuccess.attentive.nextRun.action == "nothing")
        let syncedMarkdown = await Self.explain(harness, ["ann", "--as-of", Self.asOf]).output
        #expect(syncedMarkdown.contains("Pending: none."))
        #expect(syncedMarkdown.contains("| Okendo Total Successful Referral Revenue | `10.01` | `10.01` |"))
    }

    @Test func messyEmailAndNationalPhoneFindTheCustomer() async throws {
        let harness = try await JobHarness()
        try Self.annWithEveryReason().insert(into: harness.database)
        let byEmail = try await Self.document(harness, "  ANN@example.COM \t")
        #expect(byEmail.customer.customerID == "ann")
        #expect(byEmail.matchedBy == "email")
        let byPhone = try await Self.document(harness, "(415) 555-0101", ["--default-phone-region", "US"])
        #expect(byPhone.customer.customerID == "ann")
        #expect(byPhone.matchedBy == "phone")
        let international = try await Self.document(harness, "+1 415.555.0101")
        #expect(international.customer.customerID == "ann")
        // Without a region, a national number is ambiguous and names no one.
        let national = await Self.explain(harness, ["(415) 555-0101", "--as-of", Self.asOf])
        #expect(national.status == .dataError)
        #expect(national.message.contains("--default-phone-region"))
    }

    @Test func aSharedIdentityListsTheCustomersAndExits65() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        history.customer(.init("c1", email: "Ocean@Example.com"))
        history.customer(.init("c2", email: " ocean@example.com"))
        history.customer(.init("c3", email: "river@example.com"))
        try history.insert(into: harness.database)
        let shared = await Self.explain(harness, ["ocean@example.com", "--as-of", Self.asOf])
        #expect(shared.status == .dataError)
        #expect(shared.output.isEmpty)
        #expect(shared.message.contains("'ocean@example.com' is the email of 2 customers: c1, c2"))
        #expect(shared.message.contains("with one of these customer ids"))
        let one = try await Self.document(harness, "c1")
        #expect(one.customer.identityProblem == "duplicate_identity")
        #expect(one.customer.identityProblemDetail?.contains("email ocean@example.com is also customer c2") == true)
        #expect(one.customer.sharesIdentityWith.map(\.customerID) == ["c2"])
        #expect(one.attentive.nextRun.action == "skipped")
    }

    @Test func aCustomerWhoIsNotAParticipantIsFoundByIDAndSaysWhy() async throws {
        let harness = try await JobHarness()
        var history = Self.annWithEveryReason()
        history.customer(.init("quiet", email: "quiet@example.com", optedInAt: "2024-09-01T00:00:00Z"))
        try history.insert(into: harness.database)
        let quiet = try await Self.document(harness, "quiet")
        #expect(!quiet.customer.participant)
        #expect(quiet.customer.participantBecause.hasPrefix("opted in at 2024-09-01T00:00:00.000Z, after the as-of"))
        #expect(quiet.attributes.allSatisfy { $0.value == nil })
        #expect(quiet.attentive.nextRun.action == "nothing")
        // Nothing is sent for it, so its email is no identity of the job's.
        let byEmail = await Self.explain(harness, ["quiet@example.com", "--as-of", Self.asOf])
        #expect(byEmail.status == .dataError)
        #expect(byEmail.message.contains("found by its customer_id"))
    }

    @Test func anUnknownCustomerExits65WithAClearLine() async throws {
        let harness = try await JobHarness()
        try Self.annWithEveryReason().insert(into: harness.database)
        let unknown = await Self.explain(harness, ["nobody@example.com", "--as-of", Self.asOf])
        #expect(unknown.status == .dataError)
        #expect(unknown.output.isEmpty)
        #expect(
            unknown.message.hasPrefix(
                "referral-sync: exit 65: no customer has the id 'nobody@example.com', and no participant has it as "
                    + "email or phone."))
        let missing = await Self.explain(harness, ["--as-of", Self.asOf])
        #expect(missing.status == .usage)
    }

    @Test func explainWritesNothingButTheRefresh() async throws {
        let harness = try await JobHarness()
        try Self.annWithEveryReason().insert(into: harness.database)
        _ = await Self.run(harness)
        let tables = ["referral_sync_runs", "referral_sync_ledger", "referral_sync_pending"]
        func snapshot() throws -> [String?] {
            try tables.map {
                try harness.database.query("SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM \($0) t").first?[
                    0] ?? nil
            }
        }
        let before = try snapshot()
        for format in ExplainFormat.allCases {
            #expect(await Self.explain(harness, ["ann", "--format", format.rawValue]).status == .success)
        }
        #expect(try snapshot() == before)
    }

    @Test func explainsRefreshKeepsTheRowCountsAndTheNextRunCountsAgain() async throws {
        let harness = try await JobHarness()
        try Self.annWithEveryReason().insert(into: harness.database)
        #expect(await Self.run(harness).0 == .success)
        func counts() throws -> [String?] {
            try harness.database.query("SELECT customers_read::text, referrals_read::text FROM referral_sync_state")
                .first?.values ?? []
        }
        #expect(try counts() == ["2", "12"])
        var more = ReferralHistory()
        more.customer(.init("cy", email: "cy@example.com"))
        more.referral("r-cy", by: "cy")
        more.order("o-cy", for: "r-cy", total: "7.00")
        try more.insert(into: harness.database)
        let cy = try await Self.document(harness, "cy")
        #expect(cy.attributes.map(\.value) == [nil, "1", "2024-03-01T00:00:00.000Z", "7.00"])
        #expect(cy.recompute == "incremental: 1 customers recomputed")
        // Explain accounts for nothing: the counts stay those of the last run...
        #expect(try counts() == ["2", "12"])
        // ...and the next run counts again, and its rows add up.
        let (status, reports) = await Self.run(harness)
        #expect(status == .success)
        #expect(try counts() == ["3", "13"])
        #expect(try #require(reports).text("summary.md").contains("unaccounted") == false)
    }

    @Test func aRoleThatMayWriteOnlyTheKeptRecomputeIsEnough() async throws {
        let harness = try await JobHarness()
        try Self.annWithEveryReason().insert(into: harness.database)
        #expect(await Self.run(harness).0 == .success)
        let role = "explain_\(UUID().uuidString.prefix(8).lowercased())"
        // SELECT on everything; writes only on the kept recompute the refresh brings up to date.
        try harness.database.run(
            """
            CREATE ROLE \(role) LOGIN;
            GRANT SELECT ON ALL TABLES IN SCHEMA public TO \(role);
            GRANT INSERT, UPDATE, DELETE ON referral_sync_participant_values, referral_sync_rejected_rows,
                referral_sync_revenue_kept_lines, referral_sync_counted_referrals, referral_sync_state,
                referral_sync_changes TO \(role);
            """)
        defer { try? harness.database.run("DROP OWNED BY \(role); DROP ROLE \(role)") }
        // Something changed since the run, so the refresh has work to do.
        try harness.database.run("UPDATE referral_orders SET total_price = 12.00 WHERE order_id = 'o01a'")
        let output = CapturedText()
        let message = CapturedText()
        var environment = harness.environment.merging(Self.shop) { $1 }
        environment["DATABASE_URL"] = harness.database.conninfo + " user=\(role)"
        let status = await ReferralSyncCommand.$errorOutput.withValue({ message.append($0) }) {
            await ReferralSyncCommand.main(
                arguments: ["explain", "ann", "--as-of", Self.asOf, "--format", "json"], environment: environment,
                output: { output.append($0) })
        }
        #expect(status == .success, "\(message.text)")
        #expect(output.text.contains(#""value" : "12.00""#), "12.005, rounded half to even")
        #expect(output.text.contains(#""recompute" : "incremental: 1 customers recomputed""#))
    }

    @Test func explainReadsTheStoreOfItsSchema() async throws {
        let database = try TestDatabase.create(prefix: "explain_store")
        defer { database.drop() }
        for store in ["us", "eu"] {
            let migrated = await runCommand(
                ["migrate", "--schema", store, "--create-schema"], environment: ["DATABASE_URL": database.conninfo])
            #expect(migrated.status == .success, "\(migrated.message)")
        }
        try database.run(
            """
            INSERT INTO eu.customers (customer_id, email, opted_in_at) VALUES ('c1', 'c1@example.com', '2024-01-01Z');
            INSERT INTO eu.referrals (referral_id, referrer_id, created_at) VALUES ('r1', 'c1', '2024-02-01Z');
            INSERT INTO eu.referral_orders (order_id, referral_id, total_price, currency, redeemed_at)
                VALUES ('o1', 'r1', 10.5, 'EUR', '2024-03-01Z');
            """)
        let output = CapturedText()
        let environment = ["DATABASE_URL": database.conninfo, "REFERRAL_SYNC_QUIET": "1"]
        let eu = await ReferralSyncCommand.main(
            arguments: ["explain", "c1@example.com", "--schema", "eu", "--as-of", Self.asOf, "--format", "csv"],
            environment: environment, output: { output.append($0) })
        #expect(eu == .success)
        #expect(output.text.contains(",o1,,10.5,0,EUR,2024-03-01T00:00:00.000Z,true,,"))
        let us = await runCommand(["explain", "c1", "--schema", "us", "--as-of", Self.asOf], environment: environment)
        #expect(us.status == .dataError, "the us store has no c1")
    }

    @Test func theMarkdownRendersThroughCmarkGFM() async throws {
        let harness = try await JobHarness()
        var history = Self.annWithEveryReason()
        // Stored text that Markdown would read as markup stays text.
        history.customer(.init("mallory", email: "m@example.com", link: "<script>alert(1)</script>|*x*`y`"))
        history.referral("r-m", by: "mallory", recipientEmail: "a|b@example.com")
        history.order("o-m", for: "r-m", total: "5.00")
        try history.insert(into: harness.database)
        let cmark = "/usr/bin/cmark-gfm"
        try #require(FileManager.default.isExecutableFile(atPath: cmark), "make test-deps installs cmark-gfm")
        for (customer, tables) in [("ann", 12), ("mallory", 4)] {
            let markdown = await Self.explain(harness, [customer, "--as-of", Self.asOf]).output
            let folder = try makeTemporaryFolder("explain-md")
            defer { try? FileManager.default.removeItem(atPath: folder) }
            try markdown.write(toFile: folder + "/explain.md", atomically: true, encoding: .utf8)
            let html = try await ChildProcess.run(cmark, ["--extension", "table", folder + "/explain.md"])
            #expect(html.status == 0)
            #expect(html.output.components(separatedBy: "<table>").count - 1 == tables, "\(customer)")
            #expect(html.output.contains("<h2>4. What Attentive was told</h2>"))
            #expect(!html.output.contains("<script>"))
            #expect(!html.output.contains("<em>"))
        }
    }
}

/// A coding key made from a string, for decoding the snake_case JSON document.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
