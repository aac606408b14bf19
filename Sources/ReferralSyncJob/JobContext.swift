import Attentive
import Foundation
import Postgres
import ReferralModel
import ReferralStore

/// What every command's stages share: the validated configuration, the logger, the stop signal and the run's
/// id. A value: stages receive it and never change it.
struct JobContext: Sendable {
    private(set) var configuration: RunConfiguration
    let logger: Logger
    let stopSignal: StopSignal
    /// The run's id, which names its report folder: sortable by time.
    let runKey: String

    init(configuration: RunConfiguration, logger: Logger, stopSignal: StopSignal) {
        self.configuration = configuration
        self.logger = logger
        self.stopSignal = stopSignal
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        runKey = Timestamp.now().compactString + "-" + String(repeating: "0", count: 8 - suffix.count) + suffix
    }

    private init(configuration: RunConfiguration, logger: Logger, stopSignal: StopSignal, runKey: String) {
        self.configuration = configuration
        self.logger = logger
        self.stopSignal = stopSignal
        self.runKey = runKey
    }

    /// The same context with a new run id and `stopSignal`: one report period of `events --follow`.
    func period(stopSignal: StopSignal, asOf: Timestamp) -> JobContext {
        var period = JobContext(configuration: configuration, logger: logger, stopSignal: stopSignal)
        period.configuration.asOf = asOf
        return period
    }

    /// The same context at another as-of: one wake-up of `events --follow`, whose "now" moves.
    func at(_ asOf: Timestamp) -> JobContext {
        var moved = JobContext(configuration: configuration, logger: logger, stopSignal: stopSignal, runKey: runKey)
        moved.configuration.asOf = asOf
        return moved
    }

    /// The same context (run id, logger, stop signal) in another store: `revenue --schemas`.
    func store(_ schema: String) -> JobContext {
        var store = JobContext(configuration: configuration, logger: logger, stopSignal: stopSignal, runKey: runKey)
        store.configuration.schema = schema
        return store
    }

    /// Puts the run id and `store` (when known) in every log line from now on. A command labels its lines with the
    /// store named on the command line from the start, and with the store its connection found once it knows it.
    func labelLogs(store: String?) {
        logger.setContext([("run_id", runKey)] + (store.map { [("store", $0)] } ?? []))
    }

    /// Opens a connection to the job's database.
    /// - Throws: `JobError` 78 when no database is configured and libpq's defaults do not work; `PostgresError`
    ///   otherwise.
    /// - Parameter applicationName: How the connection shows in `pg_stat_activity` (unless the conninfo names one).
    func connect(applicationName: String = "referral-sync") throws -> PostgresConnection {
        do {
            let connection = try PostgresConnection(
                conninfo: configuration.databaseURL, applicationName: applicationName)
            // A managed database often sets statement_timeout and idle_in_transaction_session_timeout on the role
            // to protect itself from interactive sessions. The job's statements take as long as the data needs
            // (a first refresh of millions of rows), and its reader stays in its snapshot while Attentive answers:
            // a role's timeout would cancel every night at the same point and never converge. The job's own
            // sessions turn both off, first thing; the lock watch still notices a session that really ends.
            try Self.turnOffTheRolesTimeouts(on: connection)
            if let schema = configuration.schema { try connection.use(schema: schema) }
            return connection
        } catch let error as PostgresError where configuration.databaseURLIsUnset && error.code == .connectionFailed {
            throw JobError(
                .configuration,
                "DATABASE_URL is not set (nor any PG* variable), and libpq's defaults did not work: \(error.message)",
                remedy: "Set DATABASE_URL to postgresql://user@host:port/dbname or a conninfo such as "
                    + "'host=db.internal dbname=shop user=sync'.")
        }
    }

    /// Turns the role's statement and idle-in-transaction timeouts off for this session. Until it is done, the
    /// role's own timeout runs: one as short as a millisecond can fire during the statement that turns it off,
    /// and its cancel then lands on that statement or on the next one ("canceling statement due to user request"
    /// once the timeout is off). So the statements are retried while they are cancelled, and a trivial statement
    /// after them takes any cancel still pending, before the session does any work.
    static func turnOffTheRolesTimeouts(on connection: PostgresConnection) throws {
        var attempt = 1
        while true {
            do {
                try connection.run("SET statement_timeout = 0; SET idle_in_transaction_session_timeout = 0")
                try connection.run("SELECT 1")
                return
            } catch let error as PostgresError where error.sqlState == "57014" && attempt < 5 {
                attempt += 1
            }
        }
    }

    /// What the recompute is for: this run's as-of, currency, shard and phone region.
    func recomputeParameters(currency: Currency) -> RecomputeParameters {
        RecomputeParameters(
            asOf: configuration.asOf, currency: currency, shard: configuration.shard,
            phoneRegion: configuration.phoneRegion)
    }

    /// The Attentive client's settings from the run's options.
    func clientConfiguration() -> AttentiveClientConfiguration {
        var client = AttentiveClientConfiguration(baseURL: configuration.attentiveBaseURL, apiKey: configuration.apiKey)
        client.maxRequestsPerSecond = configuration.maxRequestsPerSecond
        client.requestTimeout = .milliseconds(Int64(configuration.requestTimeoutSeconds * 1000))
        client.maxConnections = max(configuration.concurrency, 1)
        client.retry.maxAttempts = configuration.maxAttempts
        client.maxBulkRequestsPerSecond = min(
            configuration.maxRequestsPerSecond, AttentiveClientConfiguration.attentiveBulkRequestsPerSecond)
        client.retry.maxTotalRetryTime = .milliseconds(Int64(configuration.retryBudgetSeconds * 1000))
        return client
    }
}
