import Foundation
import ReferralModel
import ReferralStore
import Reports

/// `referral-sync explain`'s default output: GitHub-flavoured Markdown in four sections. Every value from the
/// database is a code span, so no stored text (an email with `*`, a link with `<`) can become markup.
extension CustomerExplanation {
    func markdown() -> String {
        var out = "# Customer \(Self.code(customer.customerID)) as of \(asOf)\n\n"
        out += "Matched by \(matchedBy) \(Self.code(asked)). Shop currency \(currency) (\(minorUnits) minor units), "
        out += "default phone region \(defaultPhoneRegion ?? "none"). Recompute: \(recompute).\n\n"
        out += customerSection() + referralSection() + attributeSection() + attentiveSection()
        return out
    }

    private func customerSection() -> String {
        // What Attentive gets: the kept value, after the outbound text rule (README "Identities").
        let sentLink =
            customer.participant
            ? attributes.first { $0.name == OkendoAttribute.shareableLink.rawValue }?.value : customer.shareableLink
        var out = "## 1. The customer\n\n"
        out += MarkdownTable(
            header: ["field", "as stored", "as sent"],
            rows: [
                ["email", Self.code(customer.email), Self.code(customer.sentEmail)],
                ["phone", Self.code(customer.phone), Self.code(customer.sentPhone)],
                ["shareable link", Self.code(customer.shareableLink), Self.code(sentLink)],
                ["opted in at", Self.code(customer.optedInAt), ""],
            ]
        ).render()
        out += "\n- \(customer.participant ? "Participant" : "Not a participant"): "
        out += customer.participantBecause + ".\n"
        if let words = customer.emailNotSent { out += "- Email not sent: \(Self.code(words)).\n" }
        if let words = customer.phoneNotSent { out += "- Phone not sent: \(Self.code(words)).\n" }
        if let problem = customer.identityProblem {
            out += "- Identity problem: \(Self.code(problem)): \(Self.code(customer.identityProblemDetail)).\n"
        } else {
            out += "- Identity problem: none.\n"
        }
        for shared in customer.sharesIdentityWith {
            out += "- Shares its \(shared.kind) \(Self.code(shared.identity)) with customer "
            out += "\(Self.code(shared.customerID)).\n"
        }
        return out + "\n"
    }

    private func referralSection() -> String {
        let counting = referrals.filter(\.counts).count
        var out = "## 2. Referrals (\(referrals.count) made, \(counting) count)\n\n"
        if referrals.isEmpty { out += "No referral.\n\n" }
        for referral in referrals {
            out += "### \(Self.code(referral.referralID)): \(referral.counts ? "counts" : "does not count")\n\n"
            out += "Created \(Self.code(referral.createdAt)), recipient \(Self.code(referral.recipientEmail)) "
            out += "(customer \(Self.code(referral.recipientCustomerID))), channel \(Self.code(referral.channel)).\n\n"
            if let rejection = referral.rejection {
                out += "Rejection: \(Self.code(rejection.type)), \(Self.code(rejection.reason)), at "
                out += "\(Self.code(rejection.rejectedAt)) (\(rejection.applies ? "applies" : "after the as-of")).\n\n"
            }
            out += "Why: " + (referral.reasonCode.map { Self.code($0) + ": " } ?? "") + Self.code(referral.reason)
            out += "\n\n"
            guard !referral.orders.isEmpty else { continue }
            out += MarkdownTable(
                header: ["order", "number", "total", "discount", "currency", "redeemed", "counts", "reason", "why"],
                rows: referral.orders.map { order in
                    [
                        Self.code(order.orderID), Self.code(order.orderNumber), Self.code(order.totalPrice),
                        Self.code(order.discountAmount), Self.code(order.currency), Self.code(order.redeemedAt),
                        order.counts ? "yes" : "no", Self.code(order.reasonCode), Self.code(order.reason),
                    ]
                }, rightAligned: [2, 3]
            ).render()
            out += "\n"
        }
        return out
    }

    private func attributeSection() -> String {
        "## 3. Attributes as computed now\n\n"
            + MarkdownTable(
                header: ["attribute", "value", "how it follows"],
                rows: attributes.map { [$0.name, Self.code($0.value), Self.code($0.how)] }
            ).render() + "\n"
    }

    private func attentiveSection() -> String {
        var out = "## 4. What Attentive was told\n\n"
        if let ledger = attentive.ledger {
            out += "Ledger (Attentive answered 2xx): accepted at \(Self.code(ledger.acceptedAt)) by run "
            out += "\(ledger.runID.map(String.init) ?? "?") (\(Self.code(ledger.runKey)), "
            out += "\(Self.code(ledger.runCommand))), for email \(Self.code(ledger.email)) and phone "
            out += "\(Self.code(ledger.phone)).\n\n"
            let now = Dictionary(attributes.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
            out += MarkdownTable(
                header: ["attribute", "Attentive holds", "computed now"],
                rows: ledger.values.map { [$0.name, Self.code($0.value), Self.code(now[$0.name] ?? nil)] }
            ).render()
        } else {
            out += "Ledger: Attentive has accepted nothing for this customer.\n"
        }
        out += "\n"
        if attentive.pending.isEmpty {
            out += "Pending: none.\n\n"
        } else {
            out += "Pending (not accepted yet):\n\n"
            out +=
                MarkdownTable(
                    header: [
                        "attribute", "value", "state", "attempts", "last HTTP status", "last error", "since",
                        "last attempt", "run",
                    ],
                    rows: attentive.pending.map { pending in
                        [
                            pending.attribute, Self.code(pending.value), Self.code(pending.state),
                            String(pending.attempts),
                            pending.httpStatus.map(String.init) ?? "", Self.code(pending.error),
                            Self.code(pending.since),
                            Self.code(pending.lastAttemptAt), pending.runID.map(String.init) ?? "",
                        ]
                    }, rightAligned: [3]
                ).render() + "\n"
        }
        let next = attentive.nextRun
        out += "The next run: **\(next.action)**: \(Self.code(next.why)).\n"
        if !next.changes.isEmpty {
            out += "\n"
            out += MarkdownTable(
                header: ["attribute", "value"], rows: next.changes.map { [$0.name, Self.code($0.value)] }
            ).render()
        }
        if let body = next.requestBody {
            // One line starting with `{`: nothing in it can close the fence.
            out += "\nThe request body:\n\n```json\n\(body)\n```\n"
        }
        return out
    }

    /// `text` as a Markdown code span (``MarkdownText/code(_:)``, the one rule for data in Markdown).
    static func code(_ text: String?) -> String { MarkdownText.code(text) }
}
