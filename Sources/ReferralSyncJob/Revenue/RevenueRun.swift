public import Options
import Postgres
public import ReferralModel
import ReferralStore

/// What `referral-sync revenue` reports, beyond the shared configuration (README "Finance").
public struct RevenueOptions: Sendable, Equatable {
    /// `--from`: the first day, month, quarter or year of the range; `nil` from the first dated row.
    public var from: CalendarSpan?
    /// `--to`: the last day, month, quarter or year of the range (inclusive); `nil` up to the period of as-of.
    public var to: CalendarSpan?
    /// `--by`.
    public var unit: PeriodUnit
    /// `--timezone`: an IANA name, checked against PostgreSQL's own list when the report runs.
    public var timeZone: String
    /// Where the zone came from (`--timezone` or `REFERRAL_SYNC_TIMEZONE`): the message and the status (64 or 78)
    /// when PostgreSQL does not know it.
    public var timeZoneSource: SettingSource
    /// `--basis`.
    public var basis: RevenueBasis
    /// `--top`: how many referrers `revenue.md` lists.
    public var top: Int
    /// `--close`: the period this report closes (booked basis, its unit), after reporting it; `nil` closes nothing.
    public var close: CalendarSpan?
    /// Where `--close` came from: a refused close is a usage error (64) from the command line, a configuration
    /// error (78) from `REFERRAL_SYNC_REVENUE_CLOSE`.
    public var closeSource: SettingSource
    /// `--schemas` or `--all-schemas`: one report across these stores; `nil` the one store of `--schema`.
    public var stores: StoreSelection?

    /// Options with the command line's defaults: the whole history by month in UTC, redemption basis, top 20.
    public init(
        from: CalendarSpan? = nil, to: CalendarSpan? = nil, unit: PeriodUnit = .month, timeZone: String = "UTC",
        timeZoneSource: SettingSource = .commandLine("timezone"),
        basis: RevenueBasis = .redemption, top: Int = 20, close: CalendarSpan? = nil,
        closeSource: SettingSource = .commandLine("close")
    ) {
        self.close = close
        self.closeSource = closeSource
        self.from = from
        self.to = to
        self.unit = unit
        self.timeZone = timeZone
        self.timeZoneSource = timeZoneSource
        self.basis = basis
        self.top = top
    }

    /// The options that make two reports comparable (a restatement is reported against the previous report with
    /// the same ones): everything but as-of, which is what moves.
    func comparisonKey(currency: Currency) -> String {
        [
            "basis=\(basis.rawValue)", "by=\(unit.rawValue)", "timezone=\(timeZone)",
            "from=\(from?.text ?? "(first row)")", "to=\(to?.text ?? "(as-of)")", "currency=\(currency.code)",
        ].joined(separator: "\n") + "\n"
    }
}

/// `referral-sync revenue` (README "Finance"): inside a ``Session`` (lock, schema check, currency, run history),
/// brings the kept recompute up to date like `run`, reads the revenue figures PostgreSQL computes over the same
/// definitions, reconciles them with the attributes, and writes the report folder. Sends nothing; never writes
/// the ledger.
public struct RevenueRun: Sendable {
    let context: JobContext
    let options: RevenueOptions

    /// The run's id, which names its report folder.
    public var runKey: String { context.runKey }

    /// A report for `configuration` (as-of, currency, reports folder, database) and `options`.
    public init(
        configuration: RunConfiguration, options: RevenueOptions, logger: Logger, stopSignal: StopSignal = StopSignal()
    ) {
        context = JobContext(configuration: configuration, logger: logger, stopSignal: stopSignal)
        self.options = options
    }

    /// `revenue --closed`: writes the closed periods of every unit and zone (revenue_closes.sql) with `output`,
    /// one line each; no lock, no refresh, no run-history row.
    /// - Returns: Exit 0, or the status of the database's error (69 unreachable, 78 not migrated).
    public func listClosed(output: @escaping @Sendable (String) -> Void) async -> RunResult {
        let context = self.context
        return await PipelineThread.run {
            var result = RunResult(
                status: .success, runKey: context.runKey, reportFolder: nil, counts: RunCounts(), message: "done")
            do {
                let connection = try context.connect()
                defer { connection.close() }
                try Migrations.verify(on: connection)
                output(try RevenueBooks.closedListing(try RevenueStore.closes(zone: nil, unit: nil, on: connection)))
            } catch {
                let failure = JobError(classifying: error)
                (result.status, result.message) = (failure.status, failure.description)
            }
            return result
        }
    }

    /// Runs the report. Never throws: every failure becomes an exit status and a message.
    /// - Returns: Exit 0 when the report reconciles, 1 when it does not (a defect, said in bold in revenue.md),
    ///   64/78 for an unknown time zone, and the session's statuses (75 locked, 69 unreachable, 78 schema).
    public func execute() async -> RunResult {
        let context = self.context
        let options = self.options
        return await PipelineThread.run {
            if let stores = options.stores {
                return await ConsolidatedRevenue.execute(context, options: options, selection: stores)
            }
            return await Session.open(context, command: "revenue", dryRun: false) { session, stages in
                RevenueReport(context: context, options: options, session: session).run(stages: &stages)
            }
        }
    }
}
