import Options
import ReferralSyncJob

/// `referral-sync events`: send the referral events Attentive has not had, each exactly once.
enum EventsCommand {
    static func run(
        _ arguments: [String], environment: [String: String], stopSignal: StopSignal,
        output: @escaping @Sendable (String) -> Void
    ) async -> ExitStatus {
        let configuration: RunConfiguration
        let options: ParsedOptions
        let events: EventsOptions
        do {
            guard
                let parsed = try ReferralSyncCommand.parse(
                    arguments, command: "events",
                    summary: "Send the referral events the history implies and Attentive has not had (README "
                        + "\"Events\"), each once; write events.csv. Meant to run every few minutes.",
                    options: JobOptions.eventsOptions, environment: environment, output: output)
            else { return .success }
            options = parsed
            configuration = try RunConfiguration(options: options, environment: environment, arguments: arguments)
            events = EventsOptions(
                maxAgeHours: try options.value(JobOptions.maxAge), backfill: try options.value(JobOptions.backfill))
            try RunCommand.checkMetricsFile(configuration, options)
        } catch {
            return ReferralSyncCommand.fail(error)
        }
        let logger = ReferralSyncCommand.makeLogger(options, secrets: configuration.secrets)
        let result = await SyncRun(configuration: configuration, logger: logger, stopSignal: stopSignal)
            .sendEvents(events)
        return RunCommand.finish(
            result, command: "events", configuration: configuration, logger: logger, output: output)
    }
}
