import AttentiveSimulator
import Foundation
import ReferralSyncCLI
import ReferralSyncJob
import TestSupport
import Testing

/// `events.csv`'s `warning` column: an event sent with one identity because the rules refuse the other carries the
/// words `run` writes in `warnings.csv`, kept with the event in the ledger for the run that sends it.
@Suite("Events: the warning of an identity left out")
struct EventWarningTests {
    /// p1's email is refused (sent by phone), p2's phone (sent by email); the recipient of r1 is named by an email
    /// the rules refuse, and reached through the phone of the customer it names.
    static let history = """
        INSERT INTO customers VALUES
          ('p1', 'not an email', '(415) 555-0102', 'Pat', 'One', 'en', NULL, '2025-01-10T10:00:00Z'),
          ('p2', 'p2@example.com', '12', 'Pat', 'Two', 'en', NULL, '2025-01-10T10:05:00Z'),
          ('p3', NULL, '+14155550103', 'Pat', 'Three', 'en', NULL, NULL),
          ('ok', 'ok@example.com', NULL, 'Ok', 'Fine', 'en', NULL, NULL);
        INSERT INTO referrals VALUES ('r1', 'ok', 'friend at example', 'p3', 'email', '2025-01-10T12:00:00Z');
        """
    static let asOf = "2025-01-10T20:00:00Z"

    @Test("an event sent by phone because the email is refused lists the warning's words, even sent by a later run")
    func warningColumn() async throws {
        let harness = try await JobHarness { $0.faults.internalErrorRate = 1 }
        try harness.database.run(Self.history)
        func events() async -> (ReferralSyncJob.ExitStatus, ReportFiles?) {
            let status = await ReferralSyncCommand.main(
                arguments: [
                    "events", "--reports-dir", harness.reportsDirectory, "--currency", "USD",
                    "--default-phone-region", "US", "--as-of", Self.asOf, "--max-attempts", "1",
                ],
                environment: harness.environment, output: { _ in })
            return (status, ReportFiles(path: harness.reportsDirectory + "/latest"))
        }
        func words(_ sql: String) throws -> String {
            try #require(try harness.database.query("SELECT " + sql).first?[0])
        }
        let p1Email = try words("'email ' || referral_sync_email_refusal('not an email') || '; sent by phone only'")
        let p2Phone = try words("'phone ' || referral_sync_phone_refusal('12', 'US') || '; sent by email only'")
        let recipientEmail = try words(
            "'email ' || referral_sync_email_refusal('friend at example') || '; sent by phone only'")

        // Attentive fails every request: found, failed, kept pending with its warning.
        let (failedStatus, failedReports) = await events()
        #expect(failedStatus == .needsAttention)
        let failedRows = try #require(failedReports).csv("events.csv")
        #expect(failedRows.count == 4)
        #expect(failedRows.first { $0["source_row"] == "customers:p1" }?["warning"] == p1Email)

        var healthy = harness.simulator.configuration
        healthy.faults = FaultMix()
        harness.simulator.update(configuration: healthy)
        let (status, reports) = await events()
        #expect(status == .success)
        let rows = try #require(reports).csv("events.csv")
        #expect(rows.count == 4)
        #expect(rows.allSatisfy { $0["outcome"] == "delivered" })
        func row(_ type: String, _ source: String) -> [String: String]? {
            rows.first { $0["type"] == type && $0["source_row"] == source }
        }
        let p1 = try #require(row("Opted In to Okendo Referrals", "customers:p1"))
        #expect(p1["user_email"] == "" && p1["user_phone"] == "+14155550102")
        #expect(p1["warning"] == p1Email)
        #expect(row("Opted In to Okendo Referrals", "customers:p2")?["warning"] == p2Phone)
        let invitation = try #require(row("Okendo Referral Invitation", "referrals:r1"))
        #expect(invitation["user_phone"] == "+14155550103")
        #expect(invitation["warning"] == recipientEmail)
        #expect(row("Sent Okendo Referral", "referrals:r1")?["warning"] == "")

        // The same words as run's warnings.csv.
        let (runStatus, runReports) = await harness.run([
            "--as-of", Self.asOf, "--currency", "USD",
            "--default-phone-region", "US",
        ])
        #expect(runStatus == .success)
        let warnings = try #require(runReports).csv("warnings.csv")
        #expect(warnings.first { $0["key"] == "p1" && $0["reason"] == "email_not_usable" }?["detail"] == p1Email)
    }
}
