import Foundation
import Options
import Postgres
import ReferralModel
import ReferralSyncJob

extension RunConfiguration {
    /// The libpq variables that, when set, mean libpq's own connection defaults are what the user chose.
    static let libpqVariables = ["PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE", "PGPASSFILE"]

    /// Builds and validates a configuration from the options of `run` or `drift`.
    /// - Parameters:
    ///   - options: Parsed options (``JobOptions/runOptions`` or ``JobOptions/driftOptions``).
    ///   - environment: For `ATTENTIVE_API_KEY` and `ATTENTIVE_BASE_URL`.
    ///   - arguments: The raw arguments, kept (without secrets) in the run history.
    ///   - sendsToAttentive: Whether the command needs `ATTENTIVE_API_KEY` (`explain` and `revenue` send nothing).
    /// - Throws: `JobError` with status 64 for a bad command-line value, 78 for bad configuration from the
    ///   environment; the message names the option or variable and the expected form.
    init(
        options: ParsedOptions, environment: [String: String], arguments: [String], sendsToAttentive: Bool = true
    ) throws(JobError) {
        do {
            let databaseURL = try options.value(JobOptions.databaseURL) ?? ""
            if !databaseURL.isEmpty, let problem = Conninfo.parseProblem(databaseURL) {
                let source = options.source(JobOptions.databaseURL)
                throw JobError(
                    badSetting: source, "\(source.name) cannot be parsed: \(problem)",
                    remedy: "Expected a libpq conninfo (host=db.internal dbname=shop user=sync) or a URI "
                        + "postgresql://user@host:port/dbname, with special characters in the password "
                        + "percent-encoded.")
            }
            let asOf = try options.value(JobOptions.asOf)
            let currency = try options.value(JobOptions.currency)
            let reportsDirectory = try options.value(JobOptions.reportsDirectory)
            let dryRun = try options.value(JobOptions.dryRun)
            let fullRecompute = try options.value(JobOptions.fullRecompute)
            let mode = try options.value(JobOptions.mode)
            let bulkWait = try options.value(JobOptions.bulkWait)
            let bulkBatchSize = try options.value(JobOptions.bulkBatchSize)
            let retryBudget = try options.value(JobOptions.retryBudget)
            let maxRequestsPerSecond = try options.value(JobOptions.maxRequestsPerSecond)
            let concurrency = try options.value(JobOptions.concurrency)
            let requestTimeout = try options.value(JobOptions.requestTimeout)
            let maxAttempts = try options.value(JobOptions.maxAttempts)
            let phoneRegion = try options.value(JobOptions.defaultPhoneRegion)
            let shard = try options.value(JobOptions.shard)
            let keep = try options.value(JobOptions.keep)
            let metricsFile = try options.value(JobOptions.metricsFile)
            // A command that sends nothing neither needs nor checks the Attentive variables (the key is still
            // read, so the logger keeps it out of every line).
            let attentiveBaseURL = try Self.attentiveBaseURL(sendsToAttentive ? environment : [:])
            let apiKey = (environment["ATTENTIVE_API_KEY"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            if apiKey.isEmpty && !dryRun && sendsToAttentive {
                throw JobError(
                    .configuration, "ATTENTIVE_API_KEY is not set or empty",
                    remedy: "Set ATTENTIVE_API_KEY to the key of an Attentive custom app with Custom Attributes "
                        + "write access, or use --dry-run.")
            }
            self.init(
                databaseURL: databaseURL,
                databaseURLIsUnset: databaseURL.isEmpty
                    && !Self.libpqVariables.contains { !(environment[$0] ?? "").isEmpty },
                asOf: asOf ?? .now(), asOfGiven: asOf != nil, currency: currency, reportsDirectory: reportsDirectory,
                dryRun: dryRun, fullRecompute: fullRecompute, mode: mode, bulkWaitSeconds: bulkWait,
                bulkBatchSize: bulkBatchSize, retryBudgetSeconds: retryBudget,
                maxRequestsPerSecond: maxRequestsPerSecond, concurrency: concurrency,
                requestTimeoutSeconds: requestTimeout, maxAttempts: maxAttempts, phoneRegion: phoneRegion,
                attentiveBaseURL: attentiveBaseURL, apiKey: apiKey, shard: shard, keepReports: keep,
                metricsFile: metricsFile, arguments: arguments)
            schema = try options.value(JobOptions.schema)
            retryRefused = try options.value(JobOptions.retryRefused)
        } catch let error as InvalidOptionValue {
            throw JobError(error)
        } catch let error as JobError {
            throw error
        } catch {
            throw JobError(.usage, "\(error)", remedy: "Fix the command line.")
        }
    }

    /// `ATTENTIVE_BASE_URL`: https, or plain http to a loopback test server.
    static func attentiveBaseURL(_ environment: [String: String]) throws(JobError) -> URL {
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
        return base
    }
}
