import Foundation
import Postgres
import ReferralModel
import ReferralStore

/// Everything a `run` needs, validated before anything runs.
public struct RunConfiguration: Sendable {
    /// How changed values are sent.
    public enum Mode: String, Sendable { case v1, bulk }

    /// libpq conninfo or URI; empty uses the `PG*` variables.
    public var databaseURL: String
    /// Only rows at or before this instant count.
    public var asOf: Timestamp
    /// Whether `--as-of` was given (otherwise it is the run's start).
    public var asOfGiven: Bool
    /// The shop currency, or `nil` to take the only currency in `referral_orders`.
    public var currency: Currency?
    public var reportsDirectory: String
    public var dryRun: Bool
    /// Recompute every customer instead of only those whose inputs changed (`--full-recompute`).
    public var fullRecompute: Bool
    public var mode: Mode
    /// `--bulk-wait`: how long a bulk run waits for its jobs before leaving them in flight for the next run.
    public var bulkWaitSeconds: Double
    /// `--bulk-batch-size`: participants per bulk job (1 to 256).
    public var bulkBatchSize: Int
    /// `--retry-budget`: the time the whole run may spend waiting to retry requests.
    public var retryBudgetSeconds: Double
    public var maxRequestsPerSecond: Double
    public var concurrency: Int
    public var requestTimeoutSeconds: Double
    /// Most HTTP attempts per request, the first included.
    public var maxAttempts: Int
    /// The region whose national phone numbers are read as E.164 (`US` or `CA`; README "Identities").
    public var phoneRegion: String?
    /// Whether neither `DATABASE_URL` nor any `PG*` connection variable was set (libpq then uses its defaults).
    public var databaseURLIsUnset: Bool
    public var attentiveBaseURL: URL
    public var apiKey: String
    public var shard: Shard
    /// How many published report folders to keep (0 keeps all).
    public var keepReports: Int
    public var metricsFile: String?
    /// The command line with secrets removed, for the run history.
    public var argumentsForHistory: String

    /// The strings that must never be printed.
    public var secrets: [String] {
        var found = [apiKey]
        if let components = URLComponents(string: databaseURL), let password = components.password {
            found.append(password)
        }
        if let password = ProcessInfo.processInfo.environment["PGPASSWORD"] { found.append(password) }
        return found.filter { !$0.isEmpty }
    }

    /// The options of `run`, each with its environment variable.
    public static let optionSpecs: [OptionSpec] = [
        OptionSpec(
            "database-url", environment: "DATABASE_URL",
            help: "libpq conninfo or postgresql:// URI (default: PG* variables)"),
        OptionSpec(
            "as-of", environment: "REFERRAL_SYNC_AS_OF",
            help: "count only rows at or before this ISO 8601 time (default: now)"),
        OptionSpec(
            "currency", environment: "REFERRAL_SHOP_CURRENCY",
            help: "the shop currency, ISO 4217 (default: the only one in referral_orders)"),
        OptionSpec(
            "reports-dir", environment: "REFERRAL_SYNC_REPORTS_DIR",
            help: "where run folders are written (default: ./reports)"),
        OptionSpec(
            "dry-run", environment: "REFERRAL_SYNC_DRY_RUN", takesValue: false,
            help: "send nothing; write what would be sent"),
        OptionSpec(
            "full-recompute", environment: "REFERRAL_SYNC_FULL_RECOMPUTE", takesValue: false,
            help: "recompute every customer, not only those whose inputs changed since the last run"),
        OptionSpec(
            "mode", environment: "REFERRAL_SYNC_MODE", help: "v1 (one request per participant) or bulk (default: v1)"),
        OptionSpec(
            "bulk-wait", environment: "REFERRAL_SYNC_BULK_WAIT",
            help: "bulk: seconds to wait for this run's jobs before leaving them in flight (default: 300)"),
        OptionSpec(
            "bulk-batch-size", environment: "REFERRAL_SYNC_BULK_BATCH_SIZE",
            help: "bulk: participants per job, 1 to 256 (default: 256)"),
        OptionSpec(
            "retry-budget", environment: "REFERRAL_SYNC_RETRY_BUDGET",
            help: "seconds the whole run may spend waiting to retry requests (default: 900)"),
        OptionSpec("max-rps", environment: "REFERRAL_SYNC_MAX_RPS", help: "requests per second at most (default: 150)"),
        OptionSpec(
            "concurrency", environment: "REFERRAL_SYNC_CONCURRENCY", help: "requests in flight at most (default: 32)"),
        OptionSpec(
            "request-timeout", environment: "REFERRAL_SYNC_REQUEST_TIMEOUT",
            help: "seconds before a request is given up and retried (default: 30)"),
        OptionSpec(
            "max-attempts", environment: "REFERRAL_SYNC_MAX_ATTEMPTS",
            help: "HTTP attempts per request at most, retries included (default: 6)"),
        OptionSpec(
            "default-phone-region", environment: "REFERRAL_SYNC_DEFAULT_PHONE_REGION",
            help: "read national phone numbers as this region's: US or CA (default: none, not sent)"),
        OptionSpec(
            "shard", environment: "REFERRAL_SYNC_SHARD",
            help: "K/N: take the K-th of N slices of participants (default: 1/1)"),
        OptionSpec(
            "keep", environment: "REFERRAL_SYNC_KEEP", help: "keep only the newest N report folders (default: all)"),
        OptionSpec(
            "metrics-file", environment: "REFERRAL_SYNC_METRICS_FILE", help: "write Prometheus textfile metrics here"),
        OptionSpec("log-format", environment: "REFERRAL_SYNC_LOG_FORMAT", help: "logfmt or json (default: logfmt)"),
        OptionSpec(
            "quiet", environment: "REFERRAL_SYNC_QUIET", takesValue: false, help: "log warnings and errors only"),
        OptionSpec("verbose", environment: "REFERRAL_SYNC_VERBOSE", takesValue: false, help: "log debug lines too"),
        OptionSpec("help", takesValue: false, help: "show this help"),
    ]

    /// Builds and validates a configuration.
    /// - Parameters:
    ///   - options: Parsed `run` options.
    ///   - environment: For `ATTENTIVE_API_KEY` and `ATTENTIVE_BASE_URL`.
    ///   - arguments: The raw arguments, kept (without secrets) in the run history.
    /// - Throws: `JobError` with status 64 for a bad command-line value, 78 for bad configuration from the
    ///   environment; the message names the option or variable and the expected form.
    public init(options: ParsedOptions, environment: [String: String], arguments: [String]) throws {
        func invalid(_ name: String, _ expected: String) -> JobError {
            let source = options.source(name)
            let status: ExitStatus = if case .environment = source { .configuration } else { .usage }
            let given = options.value(name) ?? ""
            return JobError(status, "\(source.name) is '\(given)'", remedy: "Expected \(expected).")
        }
        databaseURL = options.value("database-url") ?? ""
        if !databaseURL.isEmpty, let problem = Conninfo.parseProblem(databaseURL) {
            let source = options.source("database-url")
            let status: ExitStatus = if case .environment = source { .configuration } else { .usage }
            throw JobError(
                status, "\(source.name) cannot be parsed: \(problem)",
                remedy:
                    "Expected a libpq conninfo (host=db.internal dbname=shop user=sync) or a URI "
                    + "postgresql://user@host:port/dbname, with special characters in the password percent-encoded.")
        }
        let libpqVariables = ["PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE", "PGPASSFILE"]
        databaseURLIsUnset = databaseURL.isEmpty && !libpqVariables.contains { !(environment[$0] ?? "").isEmpty }
        if let text = options.value("as-of") {
            guard let parsed = Timestamp(iso8601: text) else {
                throw invalid("as-of", "an ISO 8601 time with a zone, e.g. 2024-11-08T00:00:00Z, or a date 2024-11-08")
            }
            asOf = parsed
            asOfGiven = true
        } else {
            asOf = .now()
            asOfGiven = false
        }
        if let code = options.value("currency") {
            guard let currency = Currency(code: code) else {
                throw invalid("currency", "a three-letter ISO 4217 code such as USD")
            }
            self.currency = currency
        } else {
            currency = nil
        }
        reportsDirectory = options.value("reports-dir") ?? "reports"
        dryRun = options.flag("dry-run")
        fullRecompute = options.flag("full-recompute")
        guard let mode = Mode(rawValue: options.value("mode") ?? "v1") else { throw invalid("mode", "v1 or bulk") }
        self.mode = mode
        guard let wait = Double(options.value("bulk-wait") ?? "300"), wait >= 0, wait <= 86_400 else {
            throw invalid("bulk-wait", "seconds from 0 to 86400")
        }
        bulkWaitSeconds = wait
        guard let batchSize = Int(options.value("bulk-batch-size") ?? "256"), (1...256).contains(batchSize) else {
            throw invalid("bulk-batch-size", "a whole number from 1 to 256 (Attentive takes at most 256 users a job)")
        }
        bulkBatchSize = batchSize
        guard let budget = Double(options.value("retry-budget") ?? "900"), budget >= 0, budget <= 86_400 else {
            throw invalid("retry-budget", "seconds from 0 to 86400")
        }
        retryBudgetSeconds = budget
        guard let rps = Double(options.value("max-rps") ?? "150"), rps > 0, rps <= 10_000, rps.isFinite else {
            throw invalid("max-rps", "a number of requests per second above 0 and at most 10000")
        }
        maxRequestsPerSecond = rps
        guard let concurrency = Int(options.value("concurrency") ?? "32"), (1...1024).contains(concurrency) else {
            throw invalid("concurrency", "a whole number from 1 to 1024")
        }
        self.concurrency = concurrency
        guard let timeout = Double(options.value("request-timeout") ?? "30"), timeout > 0, timeout <= 600 else {
            throw invalid("request-timeout", "seconds above 0 and at most 600")
        }
        requestTimeoutSeconds = timeout
        guard let attempts = Int(options.value("max-attempts") ?? "6"), (1...20).contains(attempts) else {
            throw invalid("max-attempts", "a whole number from 1 to 20")
        }
        maxAttempts = attempts
        if let region = options.value("default-phone-region") {
            guard ["US", "CA"].contains(region.uppercased()) else {
                throw invalid(
                    "default-phone-region",
                    "US or CA: only North American numbers (10 digits, optionally after 1) are unambiguous "
                        + "without a country code")
            }
            phoneRegion = region.uppercased()
        } else {
            phoneRegion = nil
        }
        if let text = options.value("shard") {
            let parts = text.split(separator: "/").map { Int($0) }
            guard parts.count == 2, let number = parts[0], let count = parts[1], count >= 1,
                (1...count).contains(number)
            else { throw invalid("shard", "K/N with 1 <= K <= N, e.g. 1/2") }
            shard = Shard(number: number, count: count)
        } else {
            shard = .all
        }
        guard let keep = Int(options.value("keep") ?? "0"), keep >= 0 else {
            throw invalid("keep", "a whole number of report folders to keep (0 keeps all)")
        }
        keepReports = keep
        metricsFile = options.value("metrics-file")

        let baseText =
            environment["ATTENTIVE_BASE_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://api.attentivemobile.com"
        guard let base = URL(string: baseText), let scheme = base.scheme?.lowercased(), let host = base.host else {
            throw JobError(
                .configuration, "ATTENTIVE_BASE_URL is '\(baseText)'",
                remedy: "Set it to https://api.attentivemobile.com, or unset it.")
        }
        let loopback = ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host.lowercased())
        guard scheme == "https" || (scheme == "http" && loopback) else {
            throw JobError(
                .configuration, "ATTENTIVE_BASE_URL '\(baseText)' is not https",
                remedy: "Use https (plain http is accepted only for a loopback test server).")
        }
        attentiveBaseURL = base
        apiKey = (environment["ATTENTIVE_API_KEY"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if apiKey.isEmpty && !dryRun {
            throw JobError(
                .configuration, "ATTENTIVE_API_KEY is not set or empty",
                remedy:
                    "Set ATTENTIVE_API_KEY to the key of an Attentive custom app with Custom Attributes write access, or use --dry-run."
            )
        }
        argumentsForHistory = RunConfiguration.redactedArguments(arguments, secrets: [apiKey])
    }

    /// The arguments joined for the run history, with any secret and any password in a database URL removed.
    static func redactedArguments(_ arguments: [String], secrets: [String]) -> String {
        arguments.map { argument in
            var text = argument
            for secret in secrets where !secret.isEmpty { text = text.replacingOccurrences(of: secret, with: "***") }
            if let at = text.range(of: "@"), let scheme = text.range(of: "://"), scheme.upperBound < at.lowerBound {
                let credentials = text[scheme.upperBound..<at.lowerBound]
                if let colon = credentials.firstIndex(of: ":") {
                    text.replaceSubrange(text.index(after: colon)..<at.lowerBound, with: "***")
                }
            }
            if let range = text.range(of: "password=") {
                let end = text[range.upperBound...].firstIndex(of: " ") ?? text.endIndex
                text.replaceSubrange(range.upperBound..<end, with: "***")
            }
            return text
        }.joined(separator: " ")
    }
}
