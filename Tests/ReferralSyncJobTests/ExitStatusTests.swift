import Attentive
import AttentiveSimulator
import Foundation
import TestSupport
import Testing

@testable import ReferralSyncCLI
@testable import ReferralSyncJob

/// Each exit status of the README table, produced by the situation it names.
@Suite struct ExitStatusTests {
    static func oneReferrer(_ harness: JobHarness) throws {
        var history = ReferralHistory()
        history.customer(.init("c1", email: "ocean@example.com", link: "https://test.oken.do/c1"))
        history.referral("r1", by: "c1")
        history.order("o1", for: "r1", total: "50.00")
        try history.insert(into: harness.database)
    }

    @Test func doneIsZero() async throws {
        let harness = try await JobHarness()
        try Self.oneReferrer(harness)
        let result = try await harness.result()
        #expect(result.status == .success)
        #expect(result.status.rawValue == 0)
    }

    /// A column of the input tables missing is the input's fault (65); a table of referral-sync's own missing is
    /// not (78: run migrate, or the server runs the statement where the store's tables are not, as on a Citus
    /// worker).
    @Test func aMissingInputColumnIs65AndAMissingTableOfOurOwnIs78() async throws {
        let input = try await JobHarness()
        try Self.oneReferrer(input)
        try input.database.run("ALTER TABLE referral_orders DROP COLUMN discount_amount")
        let (inputStatus, _, inputMessage) = await input.runCapturingMessage(["--dry-run"])
        #expect(inputStatus == .dataError, "\(inputMessage)")
        #expect(inputMessage.contains("the input tables cannot be read"), "\(inputMessage)")

        let own = try await JobHarness()
        try Self.oneReferrer(own)
        try own.database.run("DROP TABLE referral_sync_counted_referrals")
        let (ownStatus, _, ownMessage) = await own.runCapturingMessage(["--dry-run"])
        #expect(ownStatus == .configuration, "\(ownMessage)")
        #expect(ownMessage.contains("a table or column of referral-sync's own is missing"), "\(ownMessage)")
        #expect(ownMessage.contains("referral-sync migrate"), "\(ownMessage)")
        #expect(!ownMessage.contains("input tables"), "\(ownMessage)")
    }

    @Test func failedRowsThatStayPendingAreOne() async throws {
        // 404: a failure the next run retries (a 400 is a refusal, README "Refusals").
        let harness = try await JobHarness {
            $0.faults.badIdentities = ["ocean@example.com"]
            $0.faults.rejectionStatus = 404
        }
        try Self.oneReferrer(harness)
        let result = try await harness.result()
        #expect(result.status.rawValue == 1)
        #expect(result.message.contains("4 values failed and stay pending"))
        #expect(result.pendingValues == 4)
    }

    @Test func unknownOptionIsAUsageError() async {
        let status = await ReferralSyncCommand.main(
            arguments: ["run", "--no-such-option"], environment: [:], output: { _ in })
        #expect(status.rawValue == 64)
        let unknownCommand = await ReferralSyncCommand.main(arguments: ["sync"], environment: [:], output: { _ in })
        #expect(unknownCommand == .usage)
    }

    @Test func malformedAsOfOnTheCommandLineIsAUsageErrorAndInTheEnvironmentAConfigurationError() async {
        let environment = ["ATTENTIVE_API_KEY": "k"]
        let commandLine = await ReferralSyncCommand.main(
            arguments: ["run", "--as-of", "yesterday"], environment: environment, output: { _ in })
        #expect(commandLine.rawValue == 64)
        let variable = await ReferralSyncCommand.main(
            arguments: ["run"], environment: environment.merging(["REFERRAL_SYNC_AS_OF": "2024-13-45"]) { $1 },
            output: { _ in })
        #expect(variable.rawValue == 78)
    }

    @Test func missingApiKeyIsAConfigurationError() async throws {
        let harness = try await JobHarness()
        let status = await ReferralSyncCommand.main(
            arguments: ["run"], environment: ["DATABASE_URL": harness.database.conninfo], output: { _ in })
        #expect(status.rawValue == 78)
        #expect(harness.simulator.statistics().requests == 0)
    }

    @Test func badDatabaseURLIsAConfigurationError() async throws {
        let harness = try await JobHarness()
        // Checked with libpq's parser before anything connects: the closing line names the variable.
        let result = await harness.runCapturingMessage(
            environment: ["DATABASE_URL": "host=127.0.0.1 no_such_keyword=1"])
        #expect(result.status.rawValue == 78)
        #expect(result.message.contains("DATABASE_URL"))
    }

    @Test func wrongDatabasePasswordIsAConfigurationError() async throws {
        let harness = try await JobHarness()
        let server = try TestDatabase.serverConninfo()
        let port = try #require(server.split(separator: " ").first { $0.hasPrefix("port=") }?.dropFirst(5))
        let url = "postgresql://password_user:not-the-password@127.0.0.1:\(port)/\(harness.database.name)"
        let result = try await harness.result(environment: ["DATABASE_URL": url])
        #expect(result.status.rawValue == 78)
        #expect(result.message.contains("refused the credentials"))
        #expect(!result.message.contains("not-the-password"))
    }

    @Test func unmigratedDatabaseIsAConfigurationError() async throws {
        let harness = try await JobHarness()
        let bare = try TestDatabase.create()
        defer { bare.drop() }
        let result = try await harness.result(environment: ["DATABASE_URL": bare.conninfo])
        #expect(result.status.rawValue == 78)
        #expect(result.message.contains("referral-sync migrate"))
    }

    @Test func severalCurrenciesAndNoneSetIsAConfigurationError() async throws {
        let harness = try await JobHarness()
        var history = ReferralHistory()
        history.customer(.init("c1", email: "c1@example.com"))
        history.referral("r1", by: "c1")
        history.referral("r2", by: "c1")
        history.order("o1", for: "r1", total: "1", currency: "USD")
        history.order("o2", for: "r2", total: "1", currency: "EUR")
        try history.insert(into: harness.database)
        let result = try await harness.result()
        #expect(result.status.rawValue == 78)
        #expect(result.message.contains("EUR, USD"))
    }

    @Test func closedPostgresPortIsUnavailable() async throws {
        let harness = try await JobHarness()
        // Port 1 (tcpmux) has no listener on a test machine: the connection is refused.
        let result = try await harness.result(environment: ["DATABASE_URL": "host=127.0.0.1 port=1 dbname=x"])
        #expect(result.status.rawValue == 69)
        #expect(result.message.contains("PostgreSQL is unreachable"))
    }

    @Test func attentiveRefusingEveryConnectionIsUnavailableAndTheValuesStayPending() async throws {
        let harness = try await JobHarness()
        try Self.oneReferrer(harness)
        // Port 1 (tcpmux) has no listener on a test machine: every connection is refused. (A stopped simulator's
        // ephemeral port can be taken by another test's simulator while the job retries, which then answers 401.)
        let result = try await harness.result(environment: ["ATTENTIVE_BASE_URL": "http://127.0.0.1:1"])
        #expect(result.status.rawValue == 69)
        #expect(result.message.contains("Attentive is unreachable"))
        #expect(result.counts[.failed] == 4)
        #expect(try harness.database.query("SELECT count(*) FROM referral_sync_pending").first?.int(0) == 4)
    }

    @Test func attentiveAnsweringSomeRequestsIsNotAnOutage() {
        var statistics = ClientStatisticsFixture.make(requests: 5, connectionErrors: 4, statuses: [500: 1])
        #expect(AttentiveReachability.unreachable(statistics) == nil)
        statistics = ClientStatisticsFixture.make(requests: 5, connectionErrors: 3, timeouts: 2, statuses: [:])
        #expect(AttentiveReachability.unreachable(statistics)?.status == .unavailable)
        #expect(AttentiveReachability.unreachable(ClientStatisticsFixture.make(requests: 0, statuses: [:])) == nil)
    }

    @Test func missingInputTableIsUnusableInput() async throws {
        let harness = try await JobHarness()
        try Self.oneReferrer(harness)
        try harness.database.run("DROP TABLE referral_rejections")
        let result = try await harness.result(["--currency", "USD"])
        #expect(result.status.rawValue == 65)
        #expect(result.message.contains("referral_rejections"))
        #expect(harness.simulator.statistics().requests == 0)
    }

    @Test func forbiddenKeyIsPermissionDenied() async throws {
        let harness = try await JobHarness { $0.forbiddenKeys = [$0.apiKey] }
        try Self.oneReferrer(harness)
        let result = try await harness.result()
        #expect(result.status.rawValue == 77)
        #expect(result.message.contains("403"))
    }

    @Test func wrongKeyIsPermissionDenied() async throws {
        let harness = try await JobHarness()
        try Self.oneReferrer(harness)
        let result = try await harness.result(environment: ["ATTENTIVE_API_KEY": "not-the-key"])
        #expect(result.status.rawValue == 77)
        #expect(result.message.contains("401"))
        #expect(harness.simulator.profiles().isEmpty)
    }

    @Test func heldLockIsTempFail() async throws {
        let harness = try await JobHarness()
        try Self.oneReferrer(harness)
        let holder = try LockHolder(harness)
        #expect(try holder.holdWholeRun())
        let result = try await harness.result()
        #expect(result.status.rawValue == 75)
        #expect(result.message.contains("another referral-sync run holds the lock"))
        #expect(harness.simulator.statistics().requests == 0)
        try holder.releaseAll()
        #expect(try await harness.result().status == .success)
    }
}

/// Builds client statistics as a run would have counted them.
enum ClientStatisticsFixture {
    static func make(requests: Int, connectionErrors: Int = 0, timeouts: Int = 0, statuses: [Int: Int])
        -> ClientStatistics
    {
        var statistics = ClientStatistics()
        statistics.requestsSent = requests
        statistics.connectionErrors = connectionErrors
        statistics.timeouts = timeouts
        statistics.responsesByStatus = statuses
        return statistics
    }
}
