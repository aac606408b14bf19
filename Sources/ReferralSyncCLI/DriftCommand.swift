import Options
import ReferralSyncJob

/// `referral-sync drift`: compares what Attentive holds with the recomputed truth; sends nothing.
enum DriftCommand {
    static func run(
        _ arguments: [String], environment: [String: String], stopSignal: StopSignal,
        output: @escaping @Sendable (String) -> Void
    ) async -> ExitStatus {
        let configuration: RunConfiguration
        let options: ParsedOptions
        let drift: DriftOptions
        do {
            guard
                let parsed = try ReferralSyncCommand.parse(
                    arguments, command: "drift",
                    summary: "Compare the attributes Attentive holds with the recomputed truth and the ledger; "
                        + "write drift.csv. Sends nothing. Exit 1 when drift is found.",
                    options: JobOptions.driftOptions, environment: environment, output: output)
            else { return .success }
            options = parsed
            configuration = try RunConfiguration(options: options, environment: environment, arguments: arguments)
            drift = DriftOptions(
                sample: try options.value(JobOptions.sample), repair: try options.value(JobOptions.repair))
            try RunCommand.checkMetricsFile(configuration, options)
        } catch {
            return ReferralSyncCommand.fail(error)
        }
        let logger = ReferralSyncCommand.makeLogger(options, secrets: configuration.secrets)
        let result = await SyncRun(configuration: configuration, logger: logger, stopSignal: stopSignal)
            .checkDrift(drift)
        return RunCommand.finish(result, command: "drift", configuration: configuration, logger: logger, output: output)
    }
}
