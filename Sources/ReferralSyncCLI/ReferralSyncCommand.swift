public import Foundation
import Options
import Postgres
import ReferralStore
public import ReferralSyncJob

/// The `referral-sync` command line: the commands of ``commands``, `--help` and `--version`.
public enum ReferralSyncCommand {
    /// The tool's version.
    public static let version = "0.1.0"

    /// One of the tool's commands: its name, what `--help` says of it, and how it runs. ``commands`` is the one
    /// list: the usage text, the dispatch and the unknown-command error all come from it, so none can miss one.
    struct Command: Sendable {
        /// What the user types: `run`.
        var name: String
        /// One line for the usage text.
        var summary: String
        /// The options it takes.
        var options: [any OptionDeclaration]
        /// Runs the command with the arguments after its name.
        var run:
            @Sendable (
                _ arguments: [String], _ environment: [String: String], _ stopSignal: StopSignal,
                _ output: @escaping @Sendable (String) -> Void
            ) async -> ExitStatus
    }

    /// Every command, in the order the usage text lists them.
    static let commands: [Command] = [
        Command(
            name: "run",
            summary: "recompute every participant's attributes, send what changed to Attentive, write reports",
            options: JobOptions.runOptions,
            run: { await RunCommand.run($0, environment: $1, stopSignal: $2, output: $3) }),
        Command(
            name: "drift", summary: "compare what Attentive holds with the recomputed truth; send nothing",
            options: JobOptions.driftOptions,
            run: { await DriftCommand.run($0, environment: $1, stopSignal: $2, output: $3) }),
        Command(
            name: "events",
            summary: "send the referral events (invitations, rewards, …) Attentive has not had; every few minutes, "
                + "or --follow",
            options: JobOptions.eventsOptions,
            run: { await EventsCommand.run($0, environment: $1, stopSignal: $2, output: $3) }),
        Command(
            name: "revenue",
            summary: "the referral revenue report for finance, reconciled with the attributes; send nothing",
            options: JobOptions.revenueOptions,
            run: { await RevenueCommand.run($0, environment: $1, stopSignal: $2, output: $3) }),
        Command(
            name: "migrate", summary: "create or upgrade referral-sync's tables (idempotent)",
            options: JobOptions.migrateOptions,
            run: { arguments, environment, _, output in
                MigrateCommand.run(arguments, environment: environment, output: output)
            }),
        Command(
            name: "history", summary: "show recent runs",
            options: JobOptions.historyOptions,
            run: { arguments, environment, _, output in
                HistoryCommand.run(arguments, environment: environment, output: output)
            }),
        Command(
            name: "explain",
            summary: "explain one customer's numbers: referrals, orders, attributes, what Attentive was told",
            options: JobOptions.explainOptions,
            run: { arguments, environment, _, output in
                await ExplainCommand.run(arguments, environment: environment, output: output)
            }),
        Command(
            name: "forget",
            summary: "erase people from referral-sync's tables and kept reports, and never send them again",
            options: JobOptions.forgetOptions,
            run: { await ForgetCommand.run($0, environment: $1, stopSignal: $2, output: $3) }),
    ]

    static var usage: String {
        let width = commands.map(\.name.count).max() ?? 0
        let lines = commands.map {
            "  " + $0.name.padding(toLength: width + 3, withPad: " ", startingAt: 0) + $0.summary
        }
        return """
            usage: referral-sync <command> [options]

            Keeps Okendo referral profile attributes in Attentive right and reports what referrals earned.

            commands:
            \(lines.joined(separator: "\n"))

            Run `referral-sync <command> --help` for a command's options. Exit statuses: see the README.

            """
    }

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
        guard let name = arguments.first else {
            FileHandle.standardError.write(Data(usage.utf8))
            return .usage
        }
        let rest = Array(arguments.dropFirst())
        switch name {
        case "--help", "-h", "help":
            output(usage)
            return .success
        case "--version", "version":
            output("referral-sync \(version)\n")
            return .success
        default:
            guard let command = commands.first(where: { $0.name == name }) else {
                let names = commands.map(\.name)
                return fail(
                    UsageError(
                        "unknown command '\(name)'; commands are \(names.dropLast().joined(separator: ", ")) and "
                            + "\(names.last ?? "") (see --help)"))
            }
            return await command.run(rest, environment, stopSignal, output)
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

    /// Splits the arguments that are neither options nor options' values (`explain`'s CUSTOMER, `forget`'s
    /// PERSONs) from the options, in order.
    static func positionalArguments(_ arguments: [String], _ options: [any OptionDeclaration]) -> (
        positional: [String], options: [String]
    ) {
        let takingValues = Set(options.filter(\.takesValue).map { "--" + $0.name })
        var positional: [String] = []
        var rest: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument.hasPrefix("--") && argument.count > 2 {
                rest.append(argument)
                if takingValues.contains(argument), index < arguments.count {
                    rest.append(arguments[index])
                    index += 1
                }
            } else {
                positional.append(argument)
            }
        }
        return (positional, rest)
    }

    static func makeLogger(_ options: ParsedOptions, secrets: [String]) -> Logger {
        let quiet = (try? options.value(JobOptions.quiet)) ?? false
        let verbose = (try? options.value(JobOptions.verbose)) ?? false
        let level: Logger.Level = quiet ? .warning : (verbose ? .debug : .info)
        let format = (try? options.value(JobOptions.logFormat)) ?? .logfmt
        guard let logOutput else { return Logger(level: level, format: format, secrets: secrets) }
        return Logger(level: level, format: format, secrets: secrets, sink: logOutput)
    }

    /// Where the log lines go instead of stderr, for callers (tests) that read them.
    @TaskLocal public static var logOutput: (@Sendable (String) -> Void)?

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
