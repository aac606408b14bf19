import Options
import ReferralModel
import ReferralSyncJob

/// `referral-sync revenue`: the referral revenue report for finance (README "Finance"). Reads the database and
/// writes reports only: sends nothing, never touches the ledger.
enum RevenueCommand {
    static func run(
        _ arguments: [String], environment: [String: String], stopSignal: StopSignal,
        output: @escaping @Sendable (String) -> Void
    ) async -> ExitStatus {
        await JobCommand.run(
            arguments, command: "revenue",
            summary: "Write the referral revenue report (revenue.md, revenue.csv, channels.csv, "
                + "referrers.csv, excluded_orders.csv, revenue.svg), reconciled with the attributes `run` "
                + "sends. Sends nothing. Exit 1 when it does not reconcile.",
            options: JobOptions.revenueOptions, environment: environment,
            output: output, sendsToAttentive: false, own: revenueOptions,
            reportLine: { "revenue report: \($0)/revenue.md\n" }
        ) { configuration, revenue, logger in
            await RevenueRun(configuration: configuration, options: revenue, logger: logger, stopSignal: stopSignal)
                .execute()
        }
    }

    /// The report's own options, validated (the zone's existence is checked by PostgreSQL when the report runs).
    /// - Throws: `InvalidOptionValue` for a malformed value; `UsageError` when `--from` is after `--to`.
    static func revenueOptions(_ options: ParsedOptions) throws -> RevenueOptions {
        let from = try options.value(JobOptions.from)
        let to = try options.value(JobOptions.to)
        if let from, let to, to.end <= from.first {
            throw UsageError("--from \(from.text) is after --to \(to.text); the range would be empty")
        }
        let source = options.source(JobOptions.timeZone)
        return RevenueOptions(
            from: from, to: to, unit: try options.value(JobOptions.by),
            timeZone: try options.value(JobOptions.timeZone),
            timeZoneSource: source,
            basis: try options.value(JobOptions.basis), top: try options.value(JobOptions.top))
    }
}
