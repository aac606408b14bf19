import Options
import ReferralSyncJob

/// `referral-sync run`: recompute, compare, send what changed, report.
enum RunCommand {
    static func run(
        _ arguments: [String], environment: [String: String], stopSignal: StopSignal,
        output: @escaping @Sendable (String) -> Void
    ) async -> ExitStatus {
        let configuration: RunConfiguration
        let options: ParsedOptions
        do {
            guard
                let parsed = try ReferralSyncCommand.parse(
                    arguments, command: "run", summary: "Recompute, compare, send what changed, report.",
                    options: JobOptions.runOptions, environment: environment, output: output)
            else { return .success }
            options = parsed
            configuration = try RunConfiguration(options: options, environment: environment, arguments: arguments)
            try checkMetricsFile(configuration, options)
        } catch {
            return ReferralSyncCommand.fail(error)
        }
        let logger = ReferralSyncCommand.makeLogger(options, secrets: configuration.secrets)
        let result = await SyncRun(configuration: configuration, logger: logger, stopSignal: stopSignal).execute()
        return finish(result, command: "run", configuration: configuration, logger: logger, output: output)
    }

    /// `--metrics-file` must be writable before anything runs.
    /// - Throws: `JobError` naming the option (64) or variable (78).
    static func checkMetricsFile(_ configuration: RunConfiguration, _ options: ParsedOptions) throws(JobError) {
        guard let path = configuration.metricsFile, !MetricsFile.canBeWritten(at: path) else { return }
        let source = options.source(JobOptions.metricsFile)
        throw JobError(
            source.isEnvironment ? .configuration : .usage,
            "\(source.name) is '\(path)', whose folder does not exist or is not writable",
            remedy: "Expected a file path in an existing, writable folder, e.g. the textfile collector's.")
    }

    /// Writes the metrics, prints the report folder and the closing instruction, and returns the exit status.
    static func finish(
        _ result: RunResult, command: String, configuration: RunConfiguration, logger: Logger,
        output: (String) -> Void
    ) -> ExitStatus {
        MetricsFile.record(result, command: command, configuration: configuration, logger: logger)
        if let folder = result.reportFolder { output("reports: \(folder)\n") }
        if result.status != .success { ReferralSyncCommand.printInstruction(result.status, result.message) }
        return result.status
    }
}
