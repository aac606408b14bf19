import Options
import Postgres
import ReferralModel
import ReferralStore
import Reports

/// The booked basis's books (README "Finance": closing a period, adjustments to closed periods): `--close`, its
/// refusals, and what revenue.md and `--closed` say about closes and adjustments. The rules are SQL
/// (`sql/definitions/92_revenue_books.sql`); this is the command's side of them.
struct RevenueBooks {
    let options: RevenueOptions
    let currency: Currency

    /// What one report read of the books, in its snapshot (booked basis only).
    struct Figures {
        /// The closed periods of the report's unit and zone (revenue_closes.sql).
        var closes: [PostgresRow] = []
        /// Every adjustment to them, booked or pending (revenue_adjustments.sql).
        var adjustments: [PostgresRow] = []
        /// The period this report closed (`--close`), by its label.
        var closedNow: String?
    }

    /// - Throws: `JobError` 64 when as-of is before the as-of of the last close of the unit and zone: the lines
    ///   of the closed periods would be those of an earlier moment, and every difference a false adjustment.
    func read(on reader: PostgresConnection, asOf: Timestamp) throws -> Figures {
        guard options.basis == .booked else { return Figures() }
        let latest = try reader.query(
            """
            SELECT max(as_of) > $3::timestamptz,
                   to_char(max(as_of) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
            FROM referral_sync_revenue_closes WHERE unit = $1 AND zone = $2
            """, [options.unit.field, options.timeZone, asOf.description]
        ).first
        if latest?[0] == "t" {
            throw JobError(
                .usage,
                "--as-of \(asOf.millisecondString) is before the as-of of the last close of the books "
                    + "(\(latest?[1] ?? "?")): the closed periods' lines would be an earlier moment's",
                remedy: "Give an --as-of at or after it, or report in the redemption basis.")
        }
        return Figures(
            closes: try RevenueStore.closes(zone: options.timeZone, unit: options.unit, on: reader),
            adjustments: try RevenueStore.adjustments(
                zone: options.timeZone, unit: options.unit, currency: currency, on: reader))
    }

    /// Closes `--close`'s period with its row of `periods`, in the reader's snapshot (the caller commits).
    /// - Throws: `JobError` by the rule of a bad setting (64 from `--close`, 78 from its variable) when the period
    ///   is closed already, has not ended by as-of, or follows an open period; a closed period is never reopened.
    func close(
        _ span: CalendarSpan, periods: [PostgresRow], asOf: Timestamp, runKey: String, on reader: PostgresConnection
    ) throws -> String {
        let instants = try reader.query(
            "SELECT referral_sync_zone_start($1::timestamp, $3)::text, referral_sync_zone_start($2::timestamp, $3)::text",
            ["\(span.first)", "\(span.end)", options.timeZone])
        let (start, end) = (instants.first?[0] ?? "", instants.first?[1] ?? "")
        if let refusal = try RevenueStore.closeRefusal(
            unit: options.unit, zone: options.timeZone, periodStart: start, periodEnd: end, asOf: asOf, on: reader)
        {
            throw try refused(span, refusal, end: end, asOf: asOf, on: reader)
        }
        guard let row = try periods.first(where: { try $0.value("period") == "\(span.first)" }) else {
            throw JobError(
                badSetting: options.closeSource,
                "\(options.closeSource.name) \(span.text): the period is before the first dated row, so there is "
                    + "nothing to close",
                remedy: "Close the period of the first dated row first.")
        }
        var figures: [String: String] = [:]
        for column in RevenueFiles.revenueHeader where column != "currency" {
            figures[column] = try row.value(column)
        }
        figures["currency"] = currency.code
        let label = try row.value("label") ?? span.text
        try RevenueStore.close(
            unit: options.unit, zone: options.timeZone, period: "\(span.first)", label: label, periodStart: start,
            periodEnd: end, asOf: asOf, currency: currency, runID: runKey, figures: figures, on: reader)
        return label
    }

    private func refused(
        _ span: CalendarSpan, _ refusal: RevenueStore.CloseRefusal, end: String, asOf: Timestamp,
        on reader: PostgresConnection
    ) throws -> JobError {
        let name = "\(options.closeSource.name) \(span.text)"
        let closes = try RevenueStore.closes(zone: options.timeZone, unit: options.unit, on: reader)
        switch refusal {
        case .alreadyClosed:
            let close = try closes.first { try $0.value("period") == "\(span.first)" }
            return JobError(
                badSetting: options.closeSource,
                "\(name): closed already, at \(try close?.value("closed_at") ?? "?") by "
                    + "\(try close?.value("closed_by") ?? "?"); a closed period is never closed again or reopened",
                remedy: "Nothing to do: what arrives for it is booked as an adjustment in the first open period "
                    + "(`referral-sync revenue --closed` lists the closes).")
        case .notEnded:
            return JobError(
                badSetting: options.closeSource,
                "\(name): the period ends at \(end), after as-of \(asOf.millisecondString)",
                remedy: "Close a period once it has ended: run with an --as-of at or after its end.")
        case .predecessorOpen:
            let last = try closes.last?.value("label")
            return JobError(
                badSetting: options.closeSource,
                "\(name): the \(options.unit.rawValue) before it is open ("
                    + (last.map { "the last closed is \($0)" }
                        ?? "nothing is closed yet and revenue lines are dated before it") + ")",
                remedy: "Close the periods in order, one after the other: "
                    + (last.map { "the next to close is the \(options.unit.rawValue) after \($0)" }
                        ?? "the first close is the period of the first dated revenue line (or an earlier one)")
                    + ".")
        }
    }

    /// Why an adjustment was booked, in words (reason codes of `referral_sync_revenue_pending_adjustments`).
    static func why(_ reason: String) -> String {
        switch reason {
        case "late_order": "late order: loaded after the close"
        case "earlier_order": "earlier order loaded after the close replaces the qualifying order"
        case "late_rejection": "rejection loaded after the close"
        case "deleted_row": "order deleted after the close"
        default: "row changed after the close"
        }
    }

    /// revenue.md's "Adjustments to closed periods" (booked basis only).
    func markdown(_ books: Figures) throws -> String {
        guard options.basis == .booked else { return "" }
        var text = "## Adjustments to closed periods\n\n"
        if books.closes.isEmpty {
            text += "No \(options.unit.rawValue) in `\(options.timeZone)` is closed (`revenue --close`), so every "
            text += "period follows the booked rule alone.\n\n"
            return text
        }
        let labels = try books.closes.map { try $0.value("label") ?? "" }
        text += "Closed: \(labels.joined(separator: ", ")) (`revenue --closed`); their rows are as they were "
        text += "closed. An effect dated in a closed period that arrived after its close is booked in the first "
        text += "period open when it arrived (pending: in the first open period).\n\n"
        if books.adjustments.isEmpty {
            text += "No adjustments.\n\n"
            return text
        }
        let rows = try books.adjustments.map { row in
            [
                try row.value("belongs_to") ?? "",
                (try row.value("booked_in") ?? "") + (try row.value("pending") == "t" ? " (open)" : ""),
                Self.why(try row.value("reason") ?? ""), MarkdownText.escape(try row.value("referral_id") ?? ""),
                MarkdownText.escape(try row.value("order_id") ?? ""), try row.value("amount") ?? "",
                (try row.value("arrived_at")).flatMap { $0.isEmpty ? nil : $0 } ?? "before arrival times",
            ]
        }
        text += MarkdownTable(
            header: ["Belongs to", "Booked in", "Why", "Referral", "Order", "Amount", "Arrived"], rows: rows,
            rightAligned: [5]
        ).render()
        text += "\nAmount: the effect on net revenue. Belongs to: the period of its date; booked in: the period "
        text += "whose `adjustments` column holds it (revenue.csv).\n\n"
        return text
    }

    /// `revenue --closed`: one line per close.
    static func closedListing(_ closes: [PostgresRow]) throws -> String {
        guard !closes.isEmpty else { return "no period is closed\n" }
        var text = "unit\ttimezone\tperiod\tcurrency\tclosed_at\tclosed_by\tas_of\tsuccessful_referrals\t"
        text += "net_revenue\tadjustments\tadjusted_net_revenue\n"
        for row in closes {
            let fields = try [
                "unit", "zone", "label", "currency", "closed_at", "closed_by", "as_of", "successful_referrals",
                "net_revenue", "adjustments", "adjusted_net_revenue",
            ].map { try row.value($0) ?? "" }
            text += fields.joined(separator: "\t") + "\n"
        }
        return text
    }
}
