import Foundation

extension ReferralSyncCommand {
    /// The options of `drift`: those of `run` that apply to reading (not `--dry-run`, not `--mode`), plus
    /// `--sample` and `--repair`.
    static let driftSpecs: [OptionSpec] =
        RunConfiguration.optionSpecs.filter { !["dry-run", "mode", "help"].contains($0.name) } + [
            OptionSpec(
                "sample", environment: "REFERRAL_SYNC_DRIFT_SAMPLE",
                help: "check at most N participants, a deterministic sample that changes with the as-of date "
                    + "(default: all)"),
            OptionSpec(
                "repair", environment: "REFERRAL_SYNC_DRIFT_REPAIR", takesValue: false,
                help: "forget the ledger entries of drifted participants so the next run sends them again"),
            OptionSpec("help", takesValue: false, help: "show this help"),
        ]

    static func drift(
        _ arguments: [String], environment: [String: String], stopSignal: StopSignal,
        output: @escaping @Sendable (String) -> Void
    ) async -> ExitStatus {
        let configuration: RunConfiguration
        let options: ParsedOptions
        var drift = DriftOptions()
        do {
            options = try parseOptions(arguments, specs: driftSpecs, environment: environment)
            if options.flag("help") {
                output(
                    helpText(
                        command: "drift",
                        summary: "Compare the attributes Attentive holds with the recomputed truth and the ledger; "
                            + "write drift.csv. Sends nothing. Exit 1 when drift is found.",
                        specs: driftSpecs))
                return .success
            }
            configuration = try RunConfiguration(options: options, environment: environment, arguments: arguments)
            if let text = options.value("sample") {
                guard let size = Int(text), (1...10_000_000).contains(size) else {
                    let source = options.source("sample")
                    let status: ExitStatus = if case .environment = source { .configuration } else { .usage }
                    throw JobError(
                        status, "\(source.name) is '\(text)'",
                        remedy: "Expected a whole number of participants above 0.")
                }
                drift.sample = size
            }
            drift.repair = options.flag("repair")
            if let path = configuration.metricsFile {
                try MetricsFile.validate(path: path, source: options.source("metrics-file"))
            }
        } catch {
            return fail(error)
        }
        let logger = makeLogger(options, secrets: configuration.secrets)
        let job = SyncRun(configuration: configuration, logger: logger, stopSignal: stopSignal)
        let result = await job.checkDrift(drift)
        recordMetrics(result, command: "drift", configuration: configuration, logger: logger)
        if let folder = result.reportFolder { output("reports: \(folder)\n") }
        if result.status != .success { printInstruction(result.status, result.message) }
        return result.status
    }
}
