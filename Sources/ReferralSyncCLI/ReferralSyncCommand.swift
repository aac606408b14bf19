public import Foundation
import Options
import Postgres
import ReferralStore
public import ReferralSyncJob

/// The `referral-sync` command line: `run`, `drift`, `events`, `revenue`, `migrate`, `history`, `--help`, `--version`.
public enum ReferralSyncCommand {
    /// The tool's version.
    public static let version = "0.1.0"

    static let usage = """
        usage: referral-sync <command> [options]

        Keeps Okendo referral profile attributes in Attentive right and reports what referrals earned.

        commands:
          run       recompute every participant's attributes, send what changed to Attentive, write reports
          drift     compare what Attentive holds with the recomputed truth; send nothing
          events    send the referral events (invitations, rewards, …) Attentive has not had; every few minutes
          revenue   the referral revenue report for finance, reconciled with the attributes; send nothing
          migrate   create or upgrade referral-sync's tables (idempotent)
          history   show recent runs
          explain   explain one customer's numbers: referrals, orders, attributes, what Attentive was told

        Run `referral-sync <command> --help` for a command's options. Exit statuses: see the README.

        """

    /// Runs the command line and returns the process exit status.
    /// - Parameters:
    ///   - arguments: The arguments after the program name.
    ///   - environment: The process environment (options fall back to their variables).
    ///   - stopSignal: Receives SIGTERM/SIGINT in the real process; tests pass their own.
    ///   - output: Where standard output goes.
    public static func main(
        arguments: [String], environment: [String: String], stopSignal: StopSignal = StopSignal(),
        output: @escaping @Sendable (String) -> Void = { FileHandle.standardOutput.write(Data($0.utf8)) }
    ) async -> ExitStatus {
        guard let command = arguments.first else {
            FileHandle.standardError.write(Data(usage.utf8))
            return .usage
        }
        let rest = Array(arguments.dropFirst())
        switch command {
        case "--help", "-h", "help":
            output(usage)
            return .success
        case "--version", "version":
            output("referral-sync \(version)\n")
            return .success
        case "run":
            return await RunCommand.run(rest, environment: environment, stopSignal: stopSignal, output: output)
        case "drift":
            return await DriftCommand.run(rest, environment: environment, stopSignal: stopSignal, output: output)
        case "events":
            return await EventsCommand.run(rest, environment: environment, stopSignal: stopSignal, output: output)
        case "revenue":
            return await RevenueCommand.run(rest, environment: environment, stopSignal: stopSignal, output: output)
        case "migrate":
            return MigrateCommand.run(rest, environment: environment, output: output)
        case "history":
            return HistoryCommand.run(rest, environment: environment, output: output)
        case "explain":
            return await ExplainCommand.run(rest, environment: environment, output: output)
        default:
            return fail(
                UsageError(
                    "unknown command '\(command)'; commands are run, drift, events, revenue, migrate, history (see --help)"
                ))
        }
    }

    /// Parses a command's options; `nil` when `--help` was asked for (and printed).
    /// - Throws: `UsageError` for a command line that cannot be understood.
    static func parse(
        _ arguments: [String], command: String, summary: String, options: [any OptionDeclaration],
        environment: [String: String], output: (String) -> Void
    ) throws -> ParsedOptions? {
        let parsed = try ParsedOptions(arguments, options: options, environment: environment)
        guard try !parsed.value(JobOptions.help) else {
            output(helpText(program: "referral-sync", command: command, summary: summary, options: options))
            return nil
        }
        return parsed
    }

    static func makeLogger(_ options: ParsedOptions, secrets: [String]) -> Logger {
        let quiet = (try? options.value(JobOptions.quiet)) ?? false
        let verbose = (try? options.value(JobOptions.verbose)) ?? false
        let level: Logger.Level = quiet ? .warning : (verbose ? .debug : .info)
        return Logger(level: level, format: (try? options.value(JobOptions.logFormat)) ?? .logfmt, secrets: secrets)
    }

    /// Prints the error and the one line saying what to do, and returns its exit status.
    static func fail(_ error: any Error) -> ExitStatus {
        let jobError: JobError
        switch error {
        case let usage as UsageError: jobError = JobError(.usage, usage.message, remedy: "Fix the command line.")
        case let invalid as InvalidOptionValue: jobError = JobError(invalid)
        default: jobError = JobError(classifying: error)
        }
        printInstruction(jobError.status, jobError.description)
        return jobError.status
    }

    static func printInstruction(_ status: ExitStatus, _ message: String) {
        let line = "referral-sync: exit \(status): \(message)\n"
        if let errorOutput { errorOutput(line) } else { FileHandle.standardError.write(Data(line.utf8)) }
    }

    /// Where the closing instruction line goes instead of stderr, for callers (tests) that capture it.
    @TaskLocal public static var errorOutput: (@Sendable (String) -> Void)?
}
