public import Foundation
import Postgres
public import ReferralModel
public import ReferralStore

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
    /// `--schema`: the store's schema (README "Several stores"); `nil` uses the connection's `search_path`.
    public var schema: String? = nil
    /// `--retry-refused` (`run`, `events`): send again the values and events Attentive refused for their content
    /// (README "Refusals"), which are otherwise not sent while unchanged.
    public var retryRefused = false

    /// The strings that must never be printed: the API key and every password the database connection could
    /// use (``Conninfo/secrets(in:environment:)``, the one place they are found).
    public var secrets: [String] {
        ([apiKey] + Conninfo.secrets(in: databaseURL)).filter { !$0.isEmpty }
    }

    /// A configuration from values already validated (the command line's ``ReferralSyncCLI`` builds it from the
    /// declared options; their defaults live there, once).
    public init(
        databaseURL: String, databaseURLIsUnset: Bool, asOf: Timestamp, asOfGiven: Bool, currency: Currency?,
        reportsDirectory: String, dryRun: Bool, fullRecompute: Bool, mode: Mode, bulkWaitSeconds: Double,
        bulkBatchSize: Int, retryBudgetSeconds: Double, maxRequestsPerSecond: Double, concurrency: Int,
        requestTimeoutSeconds: Double, maxAttempts: Int, phoneRegion: String?, attentiveBaseURL: URL, apiKey: String,
        shard: Shard, keepReports: Int, metricsFile: String?, arguments: [String]
    ) {
        self.databaseURL = databaseURL
        self.databaseURLIsUnset = databaseURLIsUnset
        self.asOf = asOf
        self.asOfGiven = asOfGiven
        self.currency = currency
        self.reportsDirectory = reportsDirectory
        self.dryRun = dryRun
        self.fullRecompute = fullRecompute
        self.mode = mode
        self.bulkWaitSeconds = bulkWaitSeconds
        self.bulkBatchSize = bulkBatchSize
        self.retryBudgetSeconds = retryBudgetSeconds
        self.maxRequestsPerSecond = maxRequestsPerSecond
        self.concurrency = concurrency
        self.requestTimeoutSeconds = requestTimeoutSeconds
        self.maxAttempts = maxAttempts
        self.phoneRegion = phoneRegion
        self.attentiveBaseURL = attentiveBaseURL
        self.apiKey = apiKey
        self.shard = shard
        self.keepReports = keepReports
        self.metricsFile = metricsFile
        argumentsForHistory = Self.redactedArguments(
            arguments, secrets: [apiKey] + Conninfo.secrets(in: databaseURL))
    }

    /// The arguments joined for the run history: an argument (or an option's `=value`) from which libpq reads a
    /// password is rewritten without it (``Conninfo/redacted(_:)``), and every secret left anywhere becomes `***`.
    public static func redactedArguments(_ arguments: [String], secrets: [String]) -> String {
        arguments.map { argument in
            var text = argument
            if let redacted = Conninfo.redacted(text) {
                text = redacted
            } else if text.hasPrefix("--"), let equals = text.firstIndex(of: "="),
                let redacted = Conninfo.redacted(String(text[text.index(after: equals)...]))
            {
                text = text[...equals] + redacted
            }
            for secret in secrets.sorted(by: { $0.count > $1.count }) where !secret.isEmpty {
                text = text.replacingOccurrences(of: secret, with: "***")
            }
            return text
        }.joined(separator: " ")
    }
}
