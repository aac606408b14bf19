import Options
import ReferralSyncJob

/// `referral-sync run`: recompute, compare, send what changed, report.
enum RunCommand {
    static func run(
        _ arguments: [String], environment: [String: String], stopSignal: StopSignal,
        output: @escaping @Sendable (String) -> Void
    ) async -> ExitStatus {
        await JobCommand.run(
            arguments, command: "run", summary: "Recompute, compare, send what changed, report.",
            options: JobOptions.runOptions, environment: environment, output: output, own: { _ in () }
        ) { configuration, _, logger in
            await SyncRun(configuration: configuration, logger: logger, stopSignal: stopSignal).execute()
        }
    }

    /// `--metrics-file` must be writable before anything runs.
    /// - Throws: `JobError` naming the option (64) or variable (78).
    static func checkMetricsFile(_ configuration: RunConfiguration, _ options: ParsedOptions) throws(JobError) {
        guard let path = configuration.metricsFile, !MetricsFile.canBeWritten(at: path) else { return }
        let source = options.source(JobOptions.metricsFile)
        throw JobError(
            badSetting: source, "\(source.name) is '\(path)', whose folder does not exist or is not writable",
            remedy: "Expected a file path in an existing, writable folder, e.g. the textfile collector's.")
    }
}
