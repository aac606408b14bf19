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
                + "\"Events\"), each once; write events.csv. Meant to run every few minutes, or to keep running with "
                + "--follow.",
            options: JobOptions.eventsOptions, environment: environment, output: output,
            own: { options in
                EventsOptions(
                    maxAgeHours: try options.value(JobOptions.maxAge), backfill: try options.value(JobOptions.backfill),
                    bodyRetentionDays: try options.value(JobOptions.eventBodyRetention),
                    // Read and checked here, before the lock and the database: a bad file exits 78 naming its line.
                    eventTypeNames: try options.value(JobOptions.eventTypeNames).map {
                        try EventTypeNames(contentsOfFile: $0)
                    } ?? EventTypeNames(),
                    follow: try followOptions(options))
            }
        ) { configuration, events, logger in
            let job = SyncRun(configuration: configuration, logger: logger, stopSignal: stopSignal)
            return events.follow == nil ? await job.sendEvents(events) : await job.followEvents(events)
        }
    }

    /// `--follow`'s settings, or `nil` without it. A follower's "now" moves, so `--as-of` cannot go with it, and it
    /// sends, so neither can `--dry-run`: either is a bad setting (64 on the command line, 78 from a variable).
    static func followOptions(_ options: ParsedOptions) throws -> FollowOptions? {
        guard try options.value(JobOptions.follow) else { return nil }
        let excluded: [any OptionDeclaration] = [JobOptions.asOf, JobOptions.dryRun]
        for declaration in excluded where options.isSet(declaration) {
            let source = options.source(declaration)
            throw JobError(
                badSetting: source, "\(source.name) cannot be used with --follow",
                remedy: declaration.name == JobOptions.asOf.name
                    ? "A follower sends what happens as it happens; run `referral-sync events --as-of …` on its own."
                    : "Try the rules with `referral-sync events --dry-run` (one run), then start the follower.")
        }
        return FollowOptions(
            sweepSeconds: try options.value(JobOptions.sweepSeconds),
            reportEverySeconds: try options.value(JobOptions.reportEvery))
    }
}
