import Options
import ReferralSyncJob

/// `referral-sync drift`: compares what Attentive holds with the recomputed truth; sends nothing.
enum DriftCommand {
    static func run(
        _ arguments: [String], environment: [String: String], stopSignal: StopSignal,
        output: @escaping @Sendable (String) -> Void
    ) async -> ExitStatus {
        await JobCommand.run(
            arguments, command: "drift",
            summary: "Compare the attributes Attentive holds with the recomputed truth and the ledger; "
                + "write drift.csv. Sends nothing. Exit 1 when drift is found.",
            options: JobOptions.driftOptions, environment: environment, output: output,
            own: { options in
                DriftOptions(
                    sample: try options.value(JobOptions.sample), repair: try options.value(JobOptions.repair))
            }
        ) { configuration, drift, logger in
            await SyncRun(configuration: configuration, logger: logger, stopSignal: stopSignal).checkDrift(drift)
        }
    }
}
