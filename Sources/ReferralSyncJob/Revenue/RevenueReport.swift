import Foundation
import Options
import Postgres
import ReferralModel
import ReferralStore
import Reports

/// What one revenue report read from PostgreSQL, all in the snapshot the refresh exported.
struct RevenueFigures {
    var range: RevenueRange
    /// One row per period of the range, in order (revenue_periods.sql).
    var periods: [PostgresRow]
    /// The totals row, with the rounding differences and the periods' check.
    var totals: PostgresRow
    var channels: [PostgresRow]
    /// The first `--top` referrers (all of them are in referrers.csv).
    var topReferrers: [PostgresRow]
    var referrerCount: Int
    var excludedOrders: [PostgresRow]
    /// The whole history against the kept attributes (revenue_reconciliation.sql).
    var reconciliation: PostgresRow
    var refresh: StateRefresh
    /// The booked basis's closes and adjustments (empty in the redemption basis).
    var books = RevenueBooks.Figures()

    /// What does not reconcile, in words; empty when everything does.
    var reconciliationProblems: [String] { Self.problems(totals: totals, reconciliation: reconciliation) }

    /// What does not reconcile in a totals row and a reconciliation (revenue_periods.sql,
    /// revenue_reconciliation.sql), in words.
    static func problems(totals: PostgresRow, reconciliation: PostgresRow) -> [String] {
        var problems: [String] = []
        if (try? totals.value("adds_up")) != "t" {
            problems.append("the periods do not add up to the totals row")
        }
        if (try? reconciliation.value("reconciles")) != "t" {
            let value = { (name: String) in (try? reconciliation.value(name)) ?? "?" }
            problems.append(
                "over the whole history the report has \(value("report_successes")) successful referrals and "
                    + "\(value("report_revenue_by_referrer")) revenue (rounded per referrer), the attributes "
                    + "\(value("attribute_successes")) and \(value("attribute_revenue"))")
        }
        return problems
    }
}

/// The stages of one `referral-sync revenue`: check the zone → refresh → read the figures in one snapshot →
/// compare with the previous report → write the folder.
struct RevenueReport {
    let context: JobContext
    let options: RevenueOptions
    let session: Session
    var configuration: RunConfiguration { context.configuration }

    /// The file that says which options a report folder was made with (restatements compare like with like).
    static let optionsFile = "revenue_options.txt"

    func run(stages: inout StageTimer) -> CommandEnding {
        var failure: JobError?
        var figures: RevenueFigures?
        var restatements: [Restatement] = []
        var report: CommandReport?
        do {
            try checkTimeZone()
            let folder = try ReportFolder(root: configuration.reportsDirectory, runID: context.runKey)
            let read = try readFigures(referrersCSV: folder.path("referrers.csv"), stages: &stages)
            figures = read
            restatements = try Restatement.sincePreviousReport(
                optionsKey: options.comparisonKey(currency: session.currency), periods: read.periods,
                currency: session.currency, connection: session.writer)
            stages.finish("restatements")
            let closed = restatements.filter { $0.closedThen == true }
            if options.basis == .booked && !closed.isEmpty {
                context.logger.log(
                    .warning, "closed periods changed in the booked basis",
                    [
                        ("periods", closed.map(\.label).joined(separator: " ")),
                        ("previous_report", closed[0].previousReport),
                    ])
            }
            report = self.report(read, restatements: restatements, in: folder)
        } catch {
            failure = JobError(classifying: error)
        }
        let problems = figures?.reconciliationProblems ?? []
        var (status, message) = failure.map { ($0.status, $0.description) } ?? Self.outcome(problems)
        if failure == nil, let closed = figures?.books.closedNow {
            message += "; closed \(closed)"
        }
        if !problems.isEmpty {
            context.logger.error(
                "the revenue report does not reconcile", [("problems", problems.joined(separator: "; "))])
        }
        var counts = RunCounts()
        counts.participants = figures.flatMap { Int((try? $0.reconciliation.value("participants")) ?? "") } ?? 0
        return CommandEnding(
            status: status, message: message, report: report, closingLine: "revenue report finished",
            closingFields: [
                ("exit_status", status.description), ("basis", options.basis.rawValue), ("by", options.unit.rawValue),
                ("timezone", options.timeZone), ("periods", String(figures?.periods.count ?? 0)),
                ("restated_periods", String(restatements.count)),
                ("closed", figures?.books.closedNow ?? ""),
            ],
            counts: counts, historyCounts: Self.historyCounts(figures, restatements: restatements, options: options))
    }

    /// The report folder: its files and `revenue.md` written at the end, and, once it is published, its periods
    /// kept for the next report's restatements. The report is what the command is for: one that cannot be written
    /// fails the command.
    private func report(_ figures: RevenueFigures, restatements: [Restatement], in folder: ReportFolder)
        -> CommandReport
    {
        let (context, options, currency) = (context, options, session.currency)
        let writer = session.writer
        let files = RevenueFiles(
            folder: folder, figures: figures, options: options, currency: currency,
            optionsKey: options.comparisonKey(currency: currency))
        return CommandReport(
            folder: folder, summaryFile: RevenueFiles.markdownFile, close: { try files.write() },
            summary: { end in
                try RevenueMarkdown(
                    runKey: end.runKey, configuration: end.configuration, options: options, currency: currency,
                    figures: figures, restatements: restatements, problems: figures.reconciliationProblems,
                    status: end.status, message: end.message
                ).render()
            }, isTheProduct: true,
            afterPublish: { history in
                // Only a published report is the previous one of the next report with these options. Bookkeeping
                // for that next report: the report itself is done, so a failure here is a warning, never its status.
                do {
                    try Restatement.record(
                        periods: figures.periods, runKey: context.runKey,
                        optionsKey: options.comparisonKey(currency: currency), asOf: context.configuration.asOf,
                        connection: writer)
                    history.set("periods_kept", true)
                } catch {
                    context.logger.log(
                        .warning,
                        "the report's periods were not kept for the next report's restatements; it will compare "
                            + "with the report before this one",
                        [("error", JobError(classifying: error).description)])
                }
            })
    }

    static func outcome(_ problems: [String]) -> (ExitStatus, String) {
        problems.isEmpty
            ? (.success, "done: the report reconciles with the attributes")
            : (
                .needsAttention,
                "the revenue report does not reconcile: " + problems.joined(separator: "; ")
                    + ": a defect of referral-sync; keep the report folder and report it"
            )
    }

    /// `--timezone` must be a zone PostgreSQL knows.
    /// - Throws: `JobError` 64 naming the option, 78 naming the variable.
    func checkTimeZone() throws {
        guard try !RevenueStore.isKnownTimeZone(options.timeZone, on: session.writer) else { return }
        throw JobError(
            badSetting: options.timeZoneSource,
            "\(options.timeZoneSource.name) is '\(options.timeZone)', which PostgreSQL does not know as a time zone",
            remedy: "Expected an IANA time zone name from pg_timezone_names, e.g. UTC, Europe/Berlin or "
                + "America/New_York.")
    }

    /// Refreshes the kept recompute on the lock's connection, then reads every figure on a reader in the snapshot
    /// the refresh exported; writes referrers.csv as its rows arrive.
    private func readFigures(referrersCSV: String, stages: inout StageTimer) throws -> RevenueFigures {
        let parameters = context.recomputeParameters(currency: session.currency)
        let snapshot = try RefreshStage.refresh(
            context, parameters, on: session.lock, stages: &stages, countRows: false)
        defer { snapshot.release() }
        let reader = try context.connect()
        defer {
            try? reader.run("ROLLBACK")
            reader.close()
        }
        try RevenueStore.begin(snapshot, zone: options.timeZone, on: reader)
        snapshot.release()
        try ParticipantStateStore.verify(on: reader, parameters)
        let currency = session.currency
        let (range, periods, totals) = try Self.readPeriods(
            on: reader, options: options, currency: currency, asOf: configuration.asOf)
        let channels = try RevenueStore.channels(on: reader, range: range, currency: currency)
        let referrers = try CSVWriter(path: referrersCSV, header: RevenueFiles.referrersHeader)
        var top: [PostgresRow] = []
        try RevenueStore.forEachReferrer(on: reader, range: range, currency: currency) { row in
            referrers.write(try RevenueFiles.referrersHeader.map { try row.value($0) })
            if top.count < options.top { top.append(row) }
        }
        try referrers.close()
        let excluded = try RevenueStore.excludedOrders(on: reader, range: range)
        let reconciliation = try RevenueStore.reconciliation(on: reader, currency: currency)
        let books = RevenueBooks(options: options, currency: currency)
        var booksFigures = try books.read(on: reader, asOf: configuration.asOf)
        stages.finish("read")
        if let span = options.close {
            // In the snapshot the figures were read in, so the close keeps exactly the lines they count.
            booksFigures.closedNow = try books.close(
                span, periods: periods, asOf: configuration.asOf, runKey: context.runKey, on: reader)
            try reader.run("COMMIT")
            stages.finish("close")
        }
        return RevenueFigures(
            range: range, periods: periods, totals: totals, channels: channels, topReferrers: top,
            referrerCount: referrers.rowCount, excludedOrders: excluded, reconciliation: reconciliation,
            refresh: snapshot.refresh, books: booksFigures)
    }

    /// The working set of the basis, the range, its periods and the totals row, in the reader's transaction (its
    /// snapshot, zone and `search_path`: one store).
    static func readPeriods(
        on reader: PostgresConnection, options: RevenueOptions, currency: Currency, asOf: Timestamp
    ) throws -> (RevenueRange, [PostgresRow], PostgresRow) {
        try RevenueStore.prepare(on: reader, asOf: asOf, currency: currency, basis: options.basis)
        let range = try RevenueStore.range(
            on: reader, zone: options.timeZone, unit: options.unit, from: options.from, to: options.to, asOf: asOf)
        let rows = try RevenueStore.periods(
            on: reader, zone: options.timeZone, unit: options.unit, range: range, currency: currency)
        let periods = try rows.filter { try $0.value("kind") == "period" }
        guard let totals = try rows.first(where: { try $0.value("kind") == "total" }) else {
            throw PostgresError(code: .unexpectedResponse, message: "revenue_periods.sql returned no totals row")
        }
        return (range, periods, totals)
    }

    /// The counts kept in the run history's `outcome_counts` (`periods_kept` turns true once the published
    /// report's periods are kept).
    static func historyCounts(_ figures: RevenueFigures?, restatements: [Restatement], options: RevenueOptions)
        -> HistoryCounts
    {
        var history = HistoryCounts()
        history.set("basis", text: options.basis.rawValue)
        history.set("by", text: options.unit.rawValue)
        history.set("restated_periods", restatements.count)
        history.set("periods_kept", false)
        if let figures {
            let total = { (name: String) in (try? figures.totals.value(name)) ?? "0" }
            history.set("periods", figures.periods.count)
            history.set("successful_referrals", Int(total("successful_referrals")) ?? 0)
            history.set("revenue", text: total("revenue"))
            history.set("net_revenue", text: total("net_revenue"))
            history.set("referrers", figures.referrerCount)
            history.set("reconciled", figures.reconciliationProblems.isEmpty)
            history.set("recompute", text: figures.refresh.mode.rawValue)
            history.set("recomputed_customers", figures.refresh.recomputed)
        }
        return history
    }
}
