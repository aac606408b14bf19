import AttentiveSimulator
import Foundation
import ReferralModel
import ReferralSyncCLI
import ReferralSyncJob
import Reports
import TestSupport
import Testing

/// Attentive's ownership rule (README "Events"): event types another app created are refused with a key that
/// works. The run tells that from a refused key, keeps those events pending (`type_not_owned`) and sends the rest;
/// a names file then sends them under names of the merchant's own, with the same ids.
@Suite("Events: types another app created, and names of the merchant's choosing")
struct EventTypeOwnershipTests {
    /// Two of the history's types with two events each (a referrer's and a recipient's).
    static let foreign = ["Opted In to Okendo Referrals", "Received Okendo Referral Coupon"]

    /// Runs `events` and returns its status, reports and closing line.
    static func events(_ events: EventsTests.Events, _ arguments: [String] = [], environment: [String: String] = [:])
        async -> (status: ReferralSyncJob.ExitStatus, reports: ReportFiles?, message: String)
    {
        let captured = CapturedText()
        let status = await ReferralSyncCommand.$errorOutput.withValue({ captured.append($0) }) {
            await ReferralSyncCommand.main(
                arguments: [
                    "events", "--reports-dir", events.harness.reportsDirectory, "--currency", "USD",
                    "--default-phone-region", "US", "--as-of", EventsTests.asOf,
                ] + arguments,
                environment: events.harness.environment.merging(environment) { $1 }, output: { _ in })
        }
        let latest = events.harness.reportsDirectory + "/latest"
        let reports = FileManager.default.fileExists(atPath: latest + "/summary.md") ? ReportFiles(path: latest) : nil
        return (status, reports, captured.text)
    }

    /// The ledger's events of `types`: key, id, state, error and the type its body carries.
    static func ledger(_ events: EventsTests.Events, of types: [String]) throws -> [[String?]] {
        try events.harness.database.query(
            """
            SELECT event_key, event_id::text, state, error, body::json->>'type' FROM referral_sync_events
            WHERE type = ANY (string_to_array($1, '|')) ORDER BY event_key
            """, [types.joined(separator: "|")]
        ).map { row in (0..<5).map { row[$0] } }
    }

    @Test("foreign types: exit 1, type_not_owned per event, the rest delivered; a names file then delivers them")
    func foreignTypesThenRenamed() async throws {
        let events = try await EventsTests.Events { $0.faults.foreignEventTypes = Self.foreign }
        // One request at a time, so the second event of a refused type is certainly not sent.
        let first = await Self.events(events, ["--concurrency", "1"])
        #expect(first.status == .needsAttention)
        for type in Self.foreign { #expect(first.message.contains("'\(type)'"), "\(first.message)") }
        #expect(first.message.contains("--event-type-names"))
        #expect(!first.message.contains("ATTENTIVE_API_KEY"))
        let accepted = try events.accepted()
        #expect(accepted.count == 6)
        #expect(accepted.allSatisfy { !Self.foreign.contains($0["type"] as? String ?? "") })
        // 6 delivered, one 403 per foreign type, and GET /v1/me asked once.
        let statistics = events.harness.simulator.statistics()
        #expect(statistics.statusCounts["403"] == 2)
        #expect(statistics.requests == 9)

        let rows = try #require(first.reports).csv("events.csv")
        // (c3's opt-in is skipped for want of an identity, as in every run.)
        let refusedRows = rows.filter { Self.foreign.contains($0["type"] ?? "") && $0["outcome"] != "skipped" }
        #expect(refusedRows.count == 4)
        #expect(
            refusedRows.allSatisfy { $0["outcome"] == "failed" && $0["error"]?.hasPrefix("type_not_owned") == true })
        #expect(rows.filter { $0["outcome"] == "delivered" }.count == 6)
        let pending = try Self.ledger(events, of: Self.foreign)
        #expect(pending.count == 4)
        #expect(pending.allSatisfy { $0[2] == "failed" && $0[3] == "type_not_owned" })

        // The merchant names the two types; the next run sends them under those names, with the same ids.
        let folder = try makeTemporaryFolder("names")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/event-type-names.txt"
        try """
        # Okendo's app created these in Attentive: ours are named apart.
        Opted In to Okendo Referrals = Joined Referrals
        Received Okendo Referral Coupon = Referral Coupon Received
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let second = await Self.events(events, [], environment: ["REFERRAL_SYNC_EVENT_TYPE_NAMES": file])
        #expect(second.status == .success, "\(second.message)")
        let all = try events.accepted()
        #expect(all.count == 10)
        let renamed = all.suffix(4)
        #expect(Set(renamed.compactMap { $0["type"] as? String }) == ["Joined Referrals", "Referral Coupon Received"])
        #expect(Set(renamed.compactMap { $0["externalEventId"] as? String }) == Set(pending.compactMap { $0[1] }))
        for event in renamed {
            let role = try #require((event["properties"] as? [String: Any])?["Customer Role"] as? String)
            let okendo = event["type"] as? String == "Joined Referrals" ? Self.foreign[0] : Self.foreign[1]
            let id = event["externalEventId"] as? String
            #expect(pending.contains { $0[1] == id && $0[0]?.hasPrefix("\(okendo)|\(role)|") == true })
        }
        let ids = all.compactMap { $0["externalEventId"] as? String }
        #expect(Set(ids).count == ids.count)
        // The ledger keeps Okendo's names: a later change of names applies to what is not yet delivered.
        let delivered = try Self.ledger(events, of: Self.foreign)
        #expect(delivered.allSatisfy { $0[2] == "delivered" && Self.foreign.contains($0[4] ?? "") })

        // A third run with the names sends nothing again.
        let third = await Self.events(events, ["--event-type-names", file])
        #expect(third.status == .success)
        #expect(try events.accepted().count == 10)
    }

    @Test(
        "a refused key with foreign types is still the key: 77, nothing marked type_not_owned",
        arguments: [
            true, false,
        ])
    func refusedKeyWithForeignTypes(forbidden: Bool) async throws {
        let events = try await EventsTests.Events {
            $0.faults.foreignEventTypes = Self.foreign
            if forbidden { $0.forbiddenKeys = [$0.apiKey] }
        }
        let result = await Self.events(
            events, ["--concurrency", "4"], environment: forbidden ? [:] : ["ATTENTIVE_API_KEY": "not-the-key"])
        #expect(result.status == .permissionDenied, "\(result.message)")
        #expect(result.message.contains(forbidden ? "403" : "401"), "\(result.message)")
        #expect(try events.accepted().isEmpty)
        let ledger = try Self.ledger(events, of: OkendoEventType.allCases.map(\.rawValue))
        #expect(!ledger.isEmpty)
        #expect(ledger.allSatisfy { $0[2] != "delivered" && $0[3] != "type_not_owned" })
    }

    @Test(
        "a bad names file exits 78 naming the file and the line, before the database",
        arguments: [
            ("Sent Okendo Referal = Sent", "line 1"),
            ("# ours\nSent Okendo Referral = Sent | Email", "line 2"),
            ("Sent Okendo Referral = A\nOkendo Referral Invitation = A", "line 2"),
            ("Sent Okendo Referral = Okendo Referral Rejected", "line 1"),
            ("\n\nSent Okendo Referral =", "line 3"),
            ("Sent Okendo Referral = Sent\u{1B}", "line 1"),
            ("Sent Okendo Referral: Sent", "line 1"),
        ])
    func badNamesFile(_ text: String, _ line: String) async throws {
        let folder = try makeTemporaryFolder("names")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/names.txt"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        // No database answers there: the file is refused before one is needed.
        let environment = [
            "ATTENTIVE_API_KEY": "key", "DATABASE_URL": "postgresql://127.0.0.1:1/none?connect_timeout=1",
        ]
        for (arguments, variables) in [
            (["events", "--event-type-names", file], environment),
            (["events"], environment.merging(["REFERRAL_SYNC_EVENT_TYPE_NAMES": file]) { $1 }),
        ] {
            let result = await runCommand(arguments, environment: variables)
            #expect(result.status == .configuration, "\(result.message)")
            #expect(result.message.contains("the event type names file \(file), \(line),"), "\(result.message)")
        }
    }

    @Test("an unreadable or non-UTF-8 names file exits 78 naming it")
    func unreadableNamesFile() async throws {
        let folder = try makeTemporaryFolder("names")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let binary = folder + "/latin1.txt"
        try Data([0x53, 0x65, 0x6E, 0x74, 0x20, 0x3D, 0x20, 0xE9, 0x0A]).write(to: URL(fileURLWithPath: binary))
        let environment = [
            "ATTENTIVE_API_KEY": "key", "DATABASE_URL": "postgresql://127.0.0.1:1/none?connect_timeout=1",
        ]
        let latin1 = await runCommand(["events", "--event-type-names", binary], environment: environment)
        #expect(latin1.status == .configuration)
        #expect(latin1.message.contains("\(binary), line 1, is not UTF-8"), "\(latin1.message)")
        let missing = await runCommand(
            ["events", "--event-type-names", folder + "/none.txt"], environment: environment)
        #expect(missing.status == .configuration)
        #expect(missing.message.contains("\(folder)/none.txt cannot be read"), "\(missing.message)")
    }
}
