import Foundation
import Postgres
import ReferralModel
import ReferralStore
import Reports

/// `revenue.md`: GitHub-flavoured Markdown with the options, each table with its definitions in words, the chart,
/// the restated periods, what is not counted, and the reconciliation.
struct RevenueMarkdown {
    var runKey: String
    var configuration: RunConfiguration
    var options: RevenueOptions
    var currency: Currency
    var figures: RevenueFigures
    var restatements: [Restatement]
    var problems: [String]
    var status: ExitStatus
    var message: String

    func render() throws -> String {
        var text = "# Referral revenue \(runKey)\n\n"
        if !problems.isEmpty {
            text += "**The report does not reconcile: \(problems.joined(separator: "; ")). This is a defect of "
            text += "referral-sync: keep this folder and report it.**\n\n"
        }
        text += "- Result: **exit \(status)**: \(message)\n"
        text += "- As of: \(configuration.asOf.millisecondString) (only rows dated at or before it count)\n"
        text += "- Basis: `\(options.basis.rawValue)`: " + basisInWords + "\n"
        text += "- Periods: `--by \(options.unit.rawValue)` in `\(options.timeZone)`, from "
        text += "\(figures.range.startText) up to \(figures.range.endText)"
        text += " (`--from \(options.from?.text ?? "(first row)")`, `--to \(options.to?.text ?? "(as-of)")`)\n"
        text += "- Currency: \(currency.code), \(currency.minorUnits) minor units; every figure is its exact sum "
        text += "rounded once, half to even\n"
        text += "- Recompute: \(figures.refresh.description)\n\n"
        text += try periodSection()
        text += try RevenueBooks(options: options, currency: currency).markdown(figures.books)
        text += restatementSection()
        text += try channelSection()
        text += try referrerSection()
        text += try excludedSection()
        text += try reconciliationSection()
        text += "\nFiles: `revenue.csv`, `channels.csv`, `referrers.csv`, `excluded_orders.csv`, `revenue.svg` "
        text += "(see reports/README.md).\n"
        return text
    }

    var basisInWords: String {
        switch options.basis {
        case .redemption:
            "each successful referral counts in the period of its qualifying order's redemption, with everything "
                + "known at as-of: a rejection that arrives later removes it from its period (the period is restated)"
        case .booked:
            "each qualifying order is booked in the period of its redemption; a rejection dated after the "
                + "redemption reverses it in the period of the rejection, never in the past, so closed periods stay "
                + "closed"
        }
    }

    private func periodSection() throws -> String {
        let columns = [
            ("Period", "label"), ("Created", "referrals_created"), ("Successful", "successful_referrals"),
            ("Referrers", "referrers"), ("Revenue", "revenue"), ("Discounts", "discounts"),
            ("Average order", "average_order_value"), ("Reversed", "reversed_referrals"),
            ("Reversed revenue", "reversed_revenue"), ("Net revenue", "net_revenue"),
        ]
        var rows = try figures.periods.map { row in try columns.map { try row.value($0.1) ?? "" } }
        rows.append(try columns.map { "**" + (try figures.totals.value($0.1) ?? "") + "**" })
        var text = "## Revenue by \(options.unit.rawValue) (\(currency.code))\n\n"
        text += MarkdownTable(
            header: columns.map(\.0), rows: rows, rightAligned: Set(1..<columns.count)
        ).render()
        text += "\n"
        let rounding = [
            ("revenue", "revenue_rounding"), ("discounts", "discounts_rounding"),
            ("reversed revenue", "reversed_revenue_rounding"), ("net revenue", "net_revenue_rounding"),
        ]
        for (name, column) in rounding {
            guard let difference = try figures.totals.value(column), Decimal(string: difference) != 0 else { continue }
            text += "Rounding difference (\(name)): the total, rounded once, minus the rounded periods is "
            text += "\(difference) \(currency.code) (amounts below the minor unit add up across periods).\n\n"
        }
        text += "Created: referrals created in the period that count (not a self-referral). Successful: successful "
        text += "referrals whose qualifying order (a referral's first valid order) is dated in the period; "
        text += "Referrers: distinct referrers with one. Revenue: the sum of their orders' `total_price`; Discounts: "
        text += "of their `discount_amount`; Average order: revenue ÷ successful. Reversed: in the booked basis, "
        text += "referrals rejected in the period after their order was booked, and their revenue (always 0 in the "
        text += "redemption basis). Net revenue: revenue − reversed revenue.\n\n"
        text += "![Revenue per period (bars) and successful referrals (line)](revenue.svg)\n\n"
        return text
    }

    private func restatementSection() -> String {
        var text = "## Restated periods\n\n"
        guard let first = restatements.first else {
            text += "No period changed since the previous revenue report with the same options (or there is none).\n\n"
            return text
        }
        text += "Since the previous revenue report with the same options (`\(first.previousReport)`):\n\n"
        let closed = restatements.filter { $0.closedThen == true }
        if options.basis == .booked && !closed.isEmpty {
            text +=
                "**\(closed.count) closed \(closed.count == 1 ? "period" : "periods") changed in the booked basis** "
            text += "(ended by the previous report's as-of): a row dated in it arrived since, or a row dated elsewhere "
            text += "changed which order qualifies (a rejection dated before its order, an earlier order of the same "
            text += "referral loaded late; README \"Finance\"). Check the input rows of these periods; a period closed "
            text += "with `revenue --close` never changes (what arrives for it is an adjustment).\n\n"
        }
        text += MarkdownTable(
            header: [
                "Period", "Closed then", "Successful before", "Successful now", "Net revenue before", "Net revenue now",
                "Change",
            ],
            rows: restatements.map {
                [
                    $0.label, $0.closedThen.map { $0 ? "yes" : "no" } ?? "unknown", $0.previousSuccesses,
                    $0.successes, $0.previousNetRevenue, $0.netRevenue, $0.difference,
                ]
            }, rightAligned: [2, 3, 4, 5, 6]
        ).render()
        text += "\n"
        return text
    }

    private func channelSection() throws -> String {
        var text = "## Channels\n\n"
        let columns = [
            ("Channel", "channel"), ("Created", "referrals_created"), ("Successful", "successful_referrals"),
            ("Created and successful", "converted_referrals"), ("Conversion %", "conversion_percent"),
            ("Revenue", "revenue"), ("Average order", "average_order_value"),
        ]
        let rows = try figures.channels.map { row in
            try columns.map { column in
                let value = try row.value(column.1) ?? ""
                guard column.1 == "channel" else { return value }
                // The channel is the data's text: escaped, so it renders as itself (MarkdownText).
                return value.isEmpty ? "(none)" : MarkdownText.escape(value)
            }
        }
        text += MarkdownTable(header: columns.map(\.0), rows: rows, rightAligned: Set(1..<columns.count)).render()
        text += "\nPer `referrals.channel` over the range. Successful and revenue as in the period table (net of "
        text += "reversals), so the channels add up to its totals. Conversion: of the referrals created in the range, "
        text += "the share successful as of as-of.\n\n"
        return text
    }

    private func referrerSection() throws -> String {
        var text = "## Top \(options.top) referrers\n\n"
        let columns = [
            ("Customer", "customer_id"), ("Successful", "successful_referrals"), ("Revenue", "revenue"),
            ("Discounts", "discounts"), ("First success", "first_success_at"), ("Last success", "last_success_at"),
        ]
        let rows = try figures.topReferrers.map { row in
            try columns.map { column in
                let value = try row.value(column.1) ?? ""
                return column.1 == "customer_id" ? MarkdownText.escape(value) : value
            }
        }
        text += MarkdownTable(header: columns.map(\.0), rows: rows, rightAligned: [1, 2, 3]).render()
        text += "\n\(figures.referrerCount) referrers in the range, all in `referrers.csv`, by revenue.\n\n"
        return text
    }

    private func excludedSection() throws -> String {
        var text = "## Not counted\n\n"
        let rows = try figures.excludedOrders.map { row in
            [
                try row.value("reason") ?? "", MarkdownText.escape(try row.value("currency") ?? ""),
                try row.value("orders") ?? "",
                try row.value("amount") ?? "", try row.value("not_finite") ?? "",
            ]
        }
        text += MarkdownTable(
            header: ["Reason", "Currency", "Orders", "Amount", "Not finite"], rows: rows, rightAligned: [2, 3, 4]
        ).render()
        text += "\nEvery order redeemed in the range that does not count, by the reason code of `rejected_rows.csv`. "
        text += "Amounts stay in the order's own currency, never converted or added to \(currency.code); totals that "
        text += "are not numbers (`NaN`, `±Infinity`) are counted under Not finite and left out of the amount.\n\n"
        return text
    }

    /// With closed periods: the periods' adjusted net revenue added up against the range's net revenue of the
    /// lines now (over the whole history, the redemption basis's and the attributes').
    private func booksRow() throws -> [[String]] {
        guard !figures.books.closes.isEmpty else { return [] }
        let adjusted = try figures.totals.value("adjusted_net_revenue") ?? ""
        let net = try figures.totals.value("net_revenue") ?? ""
        return [
            [
                "Net revenue with adjustments, the periods added up, against the range's lines now", adjusted, net,
                adjusted == net ? "equal" : "differ",
            ]
        ]
    }

    private func reconciliationSection() throws -> String {
        let value = { (name: String) in (try figures.reconciliation.value(name)) ?? "" }
        let totals = { (name: String) in (try figures.totals.value(name)) ?? "" }
        var text = "## Reconciliation\n\n"
        let addsUp = try figures.totals.value("adds_up") == "t"
        let reconciles = try figures.reconciliation.value("reconciles") == "t"
        text += MarkdownTable(
            header: ["Check", "This report", "Attributes (`attributes.csv`)", "Result"],
            rows: [
                [
                    "The periods add up to the totals row (exact)",
                    "\(try totals("successful_referrals")), "
                        + "\(try totals("net_revenue"))", "", addsUp ? "equal" : "**differ**",
                ],
                [
                    "Successful referrals, whole history", try value("report_successes"),
                    try value("attribute_successes"), reconciles ? "equal" : "**differ**",
                ],
                [
                    "Revenue, whole history, each referrer rounded once", try value("report_revenue_by_referrer"),
                    try value("attribute_revenue"), reconciles ? "equal" : "**differ**",
                ],
                ["Revenue, whole history, rounded once", try value("report_revenue"), "", ""],
            ] + (try booksRow()), rightAligned: [1, 2]
        ).render()
        text += "\nOver the whole history at the same as-of (whatever `--from` and `--to`), the report's lines net of "
        text += "reversals against the sums of `successful_referrals` and `total_successful_referral_revenue` over the "
        text += "\(try value("participants")) participants, the figures `run` sends to Attentive.\n"
        let rounding = try value("rounding")
        if Decimal(string: rounding) != 0 {
            text += "\nRounding difference: the whole history rounded once minus the sum of the per-participant "
            text += "attributes is \(rounding) \(currency.code) (each attribute is rounded on its own).\n"
        }
        if !problems.isEmpty {
            text +=
                "\n**Difference found: \(problems.joined(separator: "; ")). This is a defect; the command exits 1.**\n"
        }
        return text
    }
}
