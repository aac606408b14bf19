import Foundation
import Postgres
import ReferralStore

/// The `referral-sync` command line: `run`, `migrate`, `history`, `--help`, `--version`.
public enum ReferralSyncCommand {
    /// The tool's version.
    public static let version = "0.1.0"

    static let usage = """
        usage: referral-sync <command> [options]

        Keeps Okendo referral profile attributes in Attentive right and reports what referrals earned.

        commands:
          run       recompute every participant's attributes, send what changed to Attentive, write reports
          drift     compare what Attentive holds with the recomputed truth; send nothing
          migrate   create or upgrade referral-sync's tables (idempotent)
          history   show recent runs

        Run `referral-sync <command> --help` for a command's options. Exit statuses: see the README.

        """

    /// Runs the command line and returns the process exit status.
    /// - Parameters:
    ///   - arguments: The arguments after the program name.
    ///   - environment: The process environment (options fall back to their variables).
    ///   - stopSignal: Receives SIGTERM/SIGINT in the real process; tests pass their own.
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
            return await run(rest, environment: environment, stopSignal: stopSignal, output: output)
        case "drift":
            return await drift(rest, environment: environment, stopSignal: stopSignal, output: output)
        case "migrate":
            return migrate(rest, environment: environment, output: output)
        case "history":
            return history(rest, environment: environment, output: output)
        default:
            return fail(
                UsageError("unknown command '\(command)'; commands are run, drift, migrate, history (see --help)"))
        }
    }

    static func run(
        _ arguments: [String], environment: [String: String], stopSignal: StopSignal,
        output: @escaping @Sendable (String) -> Void
    ) async -> ExitStatus {
        let configuration: RunConfiguration
        let options: ParsedOptions
        do {
            options = try parseOptions(arguments, specs: RunConfiguration.optionSpecs, environment: environment)
            if options.flag("help") {
                output(
                    helpText(
                        command: "run", summary: "Recompute, compare, send what changed, report.",
                        specs: RunConfiguration.optionSpecs))
                return .success
            }
            configuration = try RunConfiguration(options: options, environment: environment, arguments: arguments)
            if let path = configuration.metricsFile {
                try MetricsFile.validate(path: path, source: options.source("metrics-file"))
            }
        } catch {
            return fail(error)
        }
        let logger = makeLogger(options, secrets: configuration.secrets)
        let job = SyncRun(configuration: configuration, logger: logger, stopSignal: stopSignal)
        let result = await job.execute()
        recordMetrics(result, command: "run", configuration: configuration, logger: logger)
        if let folder = result.reportFolder { output("reports: \(folder)\n") }
        if result.status != .success { printInstruction(result.status, result.message) }
        return result.status
    }

    static let migrateSpecs = [
        OptionSpec(
            "database-url", environment: "DATABASE_URL",
            help: "libpq conninfo or postgresql:// URI (default: PG* variables)"),
        OptionSpec("help", takesValue: false, help: "show this help"),
    ]

    static func migrate(_ arguments: [String], environment: [String: String], output: (String) -> Void) -> ExitStatus {
        do {
            let options = try parseOptions(arguments, specs: migrateSpecs, environment: environment)
            if options.flag("help") {
                output(
                    helpText(
                        command: "migrate", summary: "Apply referral-sync's migrations (idempotent).",
                        specs: migrateSpecs))
                return .success
            }
            let connection = try PostgresConnection(conninfo: options.value("database-url") ?? "")
            defer { connection.close() }
            let applied = try Migrations.apply(on: connection)
            for migration in applied {
                output(
                    String(
                        format: "%04d_%@ %@\n", migration.version, migration.name,
                        migration.appliedNow ? "applied" : "already applied"))
            }
            return .success
        } catch let error as SchemaError {
            return fail(JobError(.configuration, "\(error)", remedy: "Use the newest referral-sync."))
        } catch {
            return fail(error)
        }
    }

    static let historySpecs = [
        OptionSpec(
            "database-url", environment: "DATABASE_URL",
            help: "libpq conninfo or postgresql:// URI (default: PG* variables)"),
        OptionSpec("last", help: "how many runs to show (default: 20)"),
        OptionSpec("help", takesValue: false, help: "show this help"),
    ]

    static func history(_ arguments: [String], environment: [String: String], output: (String) -> Void) -> ExitStatus {
        do {
            let options = try parseOptions(arguments, specs: historySpecs, environment: environment)
            if options.flag("help") {
                output(helpText(command: "history", summary: "Show recent runs, newest first.", specs: historySpecs))
                return .success
            }
            guard let last = Int(options.value("last") ?? "20"), last > 0 else {
                throw JobError(
                    .usage, "--last is '\(options.value("last") ?? "")'", remedy: "Expected a whole number above 0.")
            }
            let connection = try PostgresConnection(conninfo: options.value("database-url") ?? "")
            defer { connection.close() }
            try Migrations.verify(on: connection)
            let runs = try RunHistory.recent(on: connection, limit: last)
            output(HistoryTable.render(runs))
            return .success
        } catch let error as SchemaError {
            return fail(JobError(.configuration, "\(error)", remedy: "Run `referral-sync migrate`."))
        } catch {
            return fail(error)
        }
    }

    static func makeLogger(_ options: ParsedOptions, secrets: [String]) -> Logger {
        let level: Logger.Level = options.flag("quiet") ? .warning : (options.flag("verbose") ? .debug : .info)
        let format = Logger.Format(rawValue: options.value("log-format") ?? "logfmt") ?? .logfmt
        return Logger(level: level, format: format, secrets: secrets)
    }

    /// Prints the error and the one line saying what to do, and returns its exit status.
    static func fail(_ error: Error) -> ExitStatus {
        let jobError: JobError
        if let usage = error as? UsageError {
            jobError = JobError(.usage, usage.message, remedy: "Fix the command line.")
        } else {
            jobError = SyncRun.classify(error)
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

/// `referral-sync history` as a plain-text table.
enum HistoryTable {
    static func render(_ runs: [RunRecord]) -> String {
        let header = ["run_id", "run", "command", "started", "finished", "exit", "counts", "message"]
        let rows = runs.map { run in
            [
                String(run.runID), run.runKey, run.command + (run.dryRun ? " (dry run)" : ""), run.startedAt,
                run.finishedAt ?? "running", run.exitStatus.map(String.init) ?? "-", run.outcomeCounts,
                run.message ?? "",
            ]
        }
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], min(cell.count, 80)) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                let clipped = cell.count > 80 ? String(cell.prefix(77)) + "..." : cell
                return clipped + String(repeating: " ", count: max(0, widths[index] - clipped.count))
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n") + "\n"
    }
}
