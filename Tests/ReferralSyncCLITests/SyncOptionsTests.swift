import Options
import Testing

@testable import ReferralSyncCLI
@testable import ReferralSyncJob

/// The options of issue 3 (`--retry-budget`, `--bulk-wait`, `--bulk-batch-size`) and the bulk poll schedule.
@Suite struct SyncOptionsTests {
    static func configuration(_ arguments: [String], environment: [String: String] = [:]) throws -> RunConfiguration {
        let environment = environment.merging(["ATTENTIVE_API_KEY": "key"]) { first, _ in first }
        let options = try ParsedOptions(arguments, options: JobOptions.runOptions, environment: environment)
        return try RunConfiguration(options: options, environment: environment, arguments: arguments)
    }

    static func status(_ arguments: [String], environment: [String: String] = [:]) -> ReferralSyncJob.ExitStatus? {
        do {
            _ = try configuration(arguments, environment: environment)
            return nil
        } catch let error as JobError {
            return error.status
        } catch let error as InvalidOptionValue {
            // Every value is checked when the options are parsed; the command maps it by the same rule.
            return JobError(error).status
        } catch {
            return nil
        }
    }

    @Test func defaultsFollowAttentivesLimits() throws {
        let configuration = try Self.configuration([])
        #expect(configuration.mode == .v1)
        #expect(configuration.retryBudgetSeconds == 900)
        #expect(configuration.bulkWaitSeconds == 300)
        #expect(configuration.bulkBatchSize == 256)
        #expect(configuration.concurrency == 32)
        #expect(configuration.maxRequestsPerSecond == 150)
    }

    @Test func optionsAndTheirVariablesAreRead() throws {
        let fromArguments = try Self.configuration([
            "--mode", "bulk", "--retry-budget", "60", "--bulk-wait", "0", "--bulk-batch-size", "10",
        ])
        #expect(fromArguments.mode == .bulk)
        #expect(fromArguments.retryBudgetSeconds == 60)
        #expect(fromArguments.bulkWaitSeconds == 0)
        #expect(fromArguments.bulkBatchSize == 10)
        let fromEnvironment = try Self.configuration(
            [],
            environment: [
                "REFERRAL_SYNC_MODE": "bulk", "REFERRAL_SYNC_RETRY_BUDGET": "1.5", "REFERRAL_SYNC_BULK_WAIT": "7",
                "REFERRAL_SYNC_BULK_BATCH_SIZE": "256",
            ])
        #expect(fromEnvironment.mode == .bulk)
        #expect(fromEnvironment.retryBudgetSeconds == 1.5)
        #expect(fromEnvironment.bulkWaitSeconds == 7)
        #expect(fromEnvironment.bulkBatchSize == 256)
    }

    @Test func outOfRangeValuesAreUsageErrorsOnTheCommandLineAndConfigurationErrorsInTheEnvironment() {
        #expect(Self.status(["--bulk-batch-size", "257"]) == .usage)
        #expect(Self.status(["--bulk-batch-size", "0"]) == .usage)
        #expect(Self.status(["--bulk-wait", "-1"]) == .usage)
        #expect(Self.status(["--retry-budget", "soon"]) == .usage)
        #expect(Self.status(["--mode", "v2"]) == .usage)
        #expect(Self.status([], environment: ["REFERRAL_SYNC_BULK_BATCH_SIZE": "1000"]) == .configuration)
        #expect(Self.status([], environment: ["REFERRAL_SYNC_RETRY_BUDGET": "-5"]) == .configuration)
    }

    @Test func bulkPollsBackOffExponentiallyUpToACap() {
        let schedule = BulkPollSchedule(first: .milliseconds(250), longest: .seconds(30))
        #expect(schedule.delay(afterRound: 1) == .milliseconds(250))
        #expect(schedule.delay(afterRound: 2) == .milliseconds(500))
        #expect(schedule.delay(afterRound: 4) == .seconds(2))
        #expect(schedule.delay(afterRound: 8) == .seconds(30))
        #expect(schedule.delay(afterRound: 1000) == .seconds(30))
    }
}

/// `--help` says what the code does: each default shown is the one a run gets when the option is not set.
@Suite struct HelpDefaultsTests {
    @Test func runHelpShowsTheDefaultsARunUses() throws {
        let help = helpText(program: "referral-sync", command: "run", summary: "", options: JobOptions.runOptions)
        let configuration = try SyncOptionsTests.configuration([])
        let shown: [(String, String)] = [
            ("max-rps", "\(Int(configuration.maxRequestsPerSecond))"), ("concurrency", "\(configuration.concurrency)"),
            ("request-timeout", "\(Int(configuration.requestTimeoutSeconds))"),
            ("max-attempts", "\(configuration.maxAttempts)"),
            ("retry-budget", "\(Int(configuration.retryBudgetSeconds))"),
            ("bulk-wait", "\(Int(configuration.bulkWaitSeconds))"),
            ("bulk-batch-size", "\(configuration.bulkBatchSize)"),
            ("mode", configuration.mode.rawValue), ("shard", "\(configuration.shard)"),
        ]
        for (name, value) in shown {
            let line = help.split(separator: "\n").first { $0.hasPrefix("  --\(name) ") }
            #expect(line?.contains("(default: \(value))") == true, "--\(name): \(line ?? "missing")")
        }
    }
}
