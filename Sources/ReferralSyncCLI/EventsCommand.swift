import Options
import ReferralSyncJob

/// `referral-sync events`: send the referral events Attentive has not had, each exactly once.
enum EventsCommand {
    static func run(
        _ arguments: [String], environment: [String: String], stopSignal: StopSignal,
        output: @escaping @Sendable (String) -> Void
    ) async -> ExitStatus {
        await JobCommand.run(
            arguments, command: "events",
            summary: "Send the referral events the history implies and Attentive has not had (README "
                + "\"Events\"), each once; write events.csv. Meant to run every few minutes.",
            options: JobOptions.eventsOptions, environment: environment, output: output,
            own: { options in
                EventsOptions(
                    maxAgeHours: try options.value(JobOptions.maxAge), backfill: try options.value(JobOptions.backfill),
                    bodyRetentionDays: try options.value(JobOptions.eventBodyRetention),
                    // Read and checked here, before the lock and the database: a bad file exits 78 naming its line.
                    eventTypeNames: try options.value(JobOptions.eventTypeNames).map {
                        try EventTypeNames(contentsOfFile: $0)
                    } ?? EventTypeNames())
            }
        ) { configuration, events, logger in
            await SyncRun(configuration: configuration, logger: logger, stopSignal: stopSignal).sendEvents(events)
        }
    }
}
