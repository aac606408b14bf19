import Options
import ReferralModel
import ReferralSyncJob

/// `referral-sync revenue`: the referral revenue report for finance (README "Finance"). Reads the database and
/// writes reports only: sends nothing, never touches the ledger.
enum RevenueCommand {
    static func run(
        _ arguments: [String], environment: [String: String], stopSignal: StopSignal,
        output: @escaping @Sendable (String) -> Void
    ) async -> ExitStatus {
        await JobCommand.run(
            arguments, command: "revenue",
            summary: "Write the referral revenue report (revenue.md, revenue.csv, channels.csv, "
                + "referrers.csv, excluded_orders.csv, revenue.svg), reconciled with the attributes `run` "
                + "sends. Sends nothing. Exit 1 when it does not reconcile.",
            options: JobOptions.revenueOptions, environment: environment,
            output: output, sendsToAttentive: false, own: revenueOptions,
            reportLine: { "revenue report: \($0)/revenue.md\n" }
        ) { configuration, revenue, logger in
            let report = RevenueRun(
                configuration: configuration, options: revenue.options, logger: logger, stopSignal: stopSignal)
            return revenue.listClosed ? await report.listClosed(output: output) : await report.execute()
        }
    }

    /// The report's own options, validated (the zone's existence is checked by PostgreSQL when the report runs).
    /// - Throws: `InvalidOptionValue` for a malformed value; `UsageError` when `--from` is after `--to`.
    static func revenueOptions(_ options: ParsedOptions) throws -> (options: RevenueOptions, listClosed: Bool) {
        let from = try options.value(JobOptions.from)
        let to = try options.value(JobOptions.to)
        if let from, let to, to.end <= from.first {
            throw UsageError("--from \(from.text) is after --to \(to.text); the range would be empty")
        }
        let source = options.source(JobOptions.timeZone)
        var revenue = RevenueOptions(
            from: from, to: to, unit: try options.value(JobOptions.by),
            timeZone: try options.value(JobOptions.timeZone),
            timeZoneSource: source,
            basis: try options.value(JobOptions.basis), top: try options.value(JobOptions.top))
        if let close = try options.value(JobOptions.close) {
            try closing(close, &revenue, options)
        }
        revenue.stores = try stores(options, closing: revenue.close != nil)
        let listClosed = try options.value(JobOptions.closed)
        if listClosed, revenue.close != nil || revenue.stores != nil {
            throw UsageError("--closed lists one store's closes and writes no report: not with --close or --schemas")
        }
        return (revenue, listClosed)
    }

    /// `--schemas` or `--all-schemas`, which conflict with `--schema` (and with each other, and with `--close`, a
    /// close being one store's): by the rule of a bad setting, 64 on the command line, 78 from a variable.
    private static func stores(_ options: ParsedOptions, closing: Bool) throws -> StoreSelection? {
        let named = try options.value(JobOptions.schemas)
        let all = try options.value(JobOptions.allSchemas)
        guard named != nil || all else { return nil }
        let source = named != nil ? options.source(JobOptions.schemas) : options.source(JobOptions.allSchemas)
        let conflict =
            options.isSet(JobOptions.schema)
            ? options.source(JobOptions.schema).name
            : named != nil && all ? options.source(JobOptions.allSchemas).name : closing ? "--close" : nil
        if let conflict {
            throw JobError(
                badSetting: source, "\(source.name) and \(conflict) both choose the stores of the report",
                remedy: "Give one: --schema (or a --close) for one store, --schemas or --all-schemas for several.")
        }
        if options.isSet(JobOptions.currency) {
            throw JobError(
                badSetting: source,
                "\(source.name) reports each store in its own currency; \(options.source(JobOptions.currency).name) "
                    + "would set one for all",
                remedy: "Leave out --currency and REFERRAL_SHOP_CURRENCY: each store's is the one of its last refresh.")
        }
        return named.map { .named($0) } ?? .all
    }

    /// `--close`: the booked basis by the span's unit, over the whole history up to as-of (the close keeps what
    /// every period up to it reports). A `--by`, `--basis`, `--from` or `--to` that says otherwise is a usage error.
    private static func closing(_ close: CalendarSpan, _ revenue: inout RevenueOptions, _ options: ParsedOptions)
        throws
    {
        let unit: PeriodUnit =
            switch close.text.split(separator: "-").count {
            case 1: .year
            case 2 where close.text.contains("Q"): .quarter
            default: .month
            }
        let name = options.source(JobOptions.close).name
        if options.isSet(JobOptions.by), revenue.unit != unit {
            throw UsageError("\(name) \(close.text) closes a \(unit.rawValue); --by \(revenue.unit.rawValue) disagrees")
        }
        if options.isSet(JobOptions.basis), revenue.basis != .booked {
            throw UsageError("\(name) closes a period of the booked basis; --basis \(revenue.basis.rawValue) disagrees")
        }
        if revenue.from != nil || revenue.to != nil {
            throw UsageError("\(name) reports the whole history up to --as-of; leave out --from and --to")
        }
        revenue.unit = unit
        revenue.basis = .booked
        revenue.close = close
        revenue.closeSource = options.source(JobOptions.close)
    }
}
