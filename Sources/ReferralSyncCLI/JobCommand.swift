import Options
import ReferralSyncJob

/// What every command that runs the job shares (`run`, `drift`, `events`, `revenue`): parse its options, build and
/// check the configuration (the metrics file's folder before anything runs), then, after the command's own work
/// (which its session ends: report folder, run history, metrics file), print where the reports are and the closing
/// instruction, and return the exit status.
enum JobCommand {
    /// Runs one job command.
    /// - Parameters:
    ///   - sendsToAttentive: Whether the command needs `ATTENTIVE_API_KEY`.
    ///   - own: Reads the command's own options (after the shared ones are validated).
    ///   - reportLine: What is printed for the published report folder.
    ///   - execute: The command's work, with the configuration, its own options and the logger.
    static func run<Own>(
        _ arguments: [String], command: String, summary: String, options declarations: [any OptionDeclaration],
        environment: [String: String], output: @escaping @Sendable (String) -> Void, sendsToAttentive: Bool = true,
        own: (ParsedOptions) throws -> Own,
        reportLine: (String) -> String = { "reports: \($0)\n" },
        execute: (RunConfiguration, Own, Logger) async -> RunResult
    ) async -> ExitStatus {
        let configuration: RunConfiguration
        let options: ParsedOptions
        let ownOptions: Own
        do {
            guard
                let parsed = try ReferralSyncCommand.parse(
                    arguments, command: command, summary: summary, options: declarations, environment: environment,
                    output: output)
            else { return .success }
            options = parsed
            configuration = try RunConfiguration(
                options: options, environment: environment, arguments: arguments, sendsToAttentive: sendsToAttentive)
            ownOptions = try own(options)
            try RunCommand.checkMetricsFile(configuration, options)
        } catch {
            return ReferralSyncCommand.fail(error)
        }
        let logger = ReferralSyncCommand.makeLogger(options, secrets: configuration.secrets)
        let result = await execute(configuration, ownOptions, logger)
        if let folder = result.reportFolder { output(reportLine(folder)) }
        if result.status != .success { ReferralSyncCommand.printInstruction(result.status, result.message) }
        return result.status
    }
}
