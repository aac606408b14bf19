import Attentive
import Foundation
import Postgres
import ReferralModel
import ReferralStore

extension SyncRun {
    /// `referral-sync explain CUSTOMER`: brings the kept recompute up to date the way `run` does (same refresh,
    /// same parameters), then reads one customer's rows in the refresh's snapshot. Writes nothing else: no run
    /// lock, no run-history row, no ledger or pending change. Never throws.
    /// - Parameter customer: A `customer_id`, an email or a phone, read by the job's identity rules.
    /// - Returns: The explanation, or the error to exit with: 65 for an unknown customer or an identity several
    ///   customers share (the message lists them), the usual statuses otherwise.
    public func explain(_ customer: String) async -> Result<CustomerExplanation, JobError> {
        let context = self.context
        return await PipelineThread.run { ExplainCustomer(context: context).explain(customer) }
    }
}

/// The explain path: session checks (schema, currency) without the run lock or history → refresh → read one
/// customer → words.
struct ExplainCustomer {
    let context: JobContext

    func explain(_ asked: String) -> Result<CustomerExplanation, JobError> {
        do {
            let connection = try context.connect()
            defer { connection.releaseAdvisoryLocksAndClose() }
            try Migrations.verify(on: connection)
            let currency = try Session.resolveCurrency(
                context.configuration.currency, on: connection, logger: context.logger)
            let parameters = context.recomputeParameters(currency: currency)
            var stages = StageTimer()
            // Read in the snapshot the refresh exports, on the same connection, then let other refreshes go. Explain
            // accounts for no rows, so the refresh keeps the last row counts (the next run counts again).
            let snapshot = try RefreshStage.refresh(
                context, parameters, on: connection, stages: &stages, countRows: false)
            defer { snapshot.release() }
            try ParticipantStateStore.verify(on: connection, parameters)
            let explanation = try read(asked, parameters, refresh: snapshot.refresh, on: connection)
            snapshot.release()
            return .success(explanation)
        } catch {
            return .failure(JobError(classifying: error))
        }
    }

    private func read(
        _ asked: String, _ parameters: RecomputeParameters, refresh: StateRefresh, on connection: PostgresConnection
    ) throws -> CustomerExplanation {
        let match = try Self.single(
            CustomerExplanationReads.matches(asked, phoneRegion: parameters.phoneRegion, on: connection), asked: asked)
        // A forgotten person (`referral-sync forget`) is absent, whatever the input tables still hold.
        guard let row = try CustomerExplanationReads.customer(match.customerID, parameters, on: connection),
            row.problem != "forgotten"
        else {
            throw Self.unknown(asked)
        }
        let referrals = try CustomerExplanationReads.referrals(match.customerID, parameters, on: connection)
        let (pending, shared) = try CustomerExplanationReads.pendingAndShared(match.customerID, on: connection)
        let next = try CustomerExplanationReads.nextRunState(match.customerID, on: connection)
        let held = try BulkJobStore.inFlightParticipants(on: connection, customer: match.customerID)[
            match.customerID]
        let explained = referrals.map(Self.referral)
        return CustomerExplanation(
            asOf: parameters.asOf.millisecondString, currency: parameters.currency.code,
            minorUnits: parameters.currency.minorUnits, defaultPhoneRegion: parameters.phoneRegion,
            recompute: refresh.description, asked: asked, matchedBy: match.matched,
            customer: Self.customer(row, shared: shared, asOf: parameters.asOf.millisecondString),
            referrals: explained,
            attributes: Self.attributes(row, referrals: explained, currency: parameters.currency),
            attentive: CustomerExplanation.Attentive(
                ledger: row.ledger.map(Self.ledger), pending: pending,
                nextRun: Self.nextRun(next, held: held)))
    }

    /// The one customer the lookup found.
    /// - Throws: `JobError` 65 when it found none, or several (listed, so the user can pick one by id).
    static func single(_ matches: [CustomerMatch], asked: String) throws -> CustomerMatch {
        let ids = Array(Set(matches.map(\.customerID))).sorted()
        guard ids.count <= 1 else {
            throw JobError(
                .dataError,
                "'\(asked)' is the \(matches.first?.matched ?? "identity") of \(ids.count) customers: "
                    + ids.joined(separator: ", "),
                remedy: "Run `referral-sync explain` again with one of these customer ids.")
        }
        guard let match = matches.first else { throw unknown(asked) }
        return match
    }

    static func unknown(_ asked: String) -> JobError {
        JobError(
            .dataError, "no customer has the id '\(asked)', and no participant has it as email or phone",
            remedy: "Check the spelling; a customer who is not a participant is found by its customer_id, and a "
                + "national phone number needs --default-phone-region (US or CA).")
    }

    static func customer(_ row: ExplainedCustomerRow, shared: [SharedIdentity], asOf: String)
        -> CustomerExplanation.Customer
    {
        var reasons: [String] = []
        if row.optedInByAsOf { reasons.append("opted in at \(row.optedInAt ?? "?")") }
        if row.referredByAsOf {
            reasons.append(
                "made \(row.referralsByAsOf) referral\(row.referralsByAsOf == 1 ? "" : "s") by the as-of")
        }
        let because: String
        if row.participant {
            because = reasons.joined(separator: " and ")
        } else {
            let optIn = row.optedInAt.map { "opted in at \($0), after the as-of \(asOf)" } ?? "never opted in"
            because = "\(optIn), and no referral created by the as-of; nothing is computed or sent"
        }
        return CustomerExplanation.Customer(
            customerID: row.customerID, email: row.email, phone: row.phone, shareableLink: row.shareableLink,
            optedInAt: row.optedInAt, sentEmail: row.sendEmail, sentPhone: row.sendPhone,
            participant: row.participant, participantBecause: because, identityProblem: row.problem,
            identityProblemDetail: row.problemDetail, emailNotSent: row.emailRefusal, phoneNotSent: row.phoneRefusal,
            sharesIdentityWith: shared)
    }

    static func referral(_ row: ExplainedReferralRow) -> CustomerExplanation.Referral {
        let counts = row.status == "counts"
        var reason: String
        var code: String? = row.reasonCode
        switch row.status {
        case "counts":
            reason = "counts, with its qualifying order \(row.qualifyingOrderID ?? "?")"
        case "referral_rejected":
            code = "referral_rejected"
            reason =
                "rejected (\(row.rejectionType ?? "no type"): \(row.rejectionReason ?? "no reason")) at "
                + "\(row.rejectedAt ?? "?"), by the as-of: a rejection applies whatever its date relative to the order"
        case "no_order": reason = "no order yet"
        case "no_order_counts": reason = "none of its orders counts (each says why)"
        default: reason = row.reasonDetail ?? row.status
        }
        if let rejectionCode = row.rejectionCode {
            reason += "; \(rejectionCode): \(row.rejectionDetail ?? ""): the referral counts until then"
        }
        let rejection = row.rejectedAt.map { at in
            CustomerExplanation.Rejection(
                type: row.rejectionType, reason: row.rejectionReason, rejectedAt: at, applies: row.rejectionApplies,
                reasonCode: row.rejectionCode, detail: row.rejectionDetail)
        }
        return CustomerExplanation.Referral(
            referralID: row.referralID, recipientEmail: row.recipientEmail,
            recipientCustomerID: row.recipientCustomerID, channel: row.channel, createdAt: row.createdAt,
            counts: counts, status: row.status, reasonCode: code, reason: reason, rejection: rejection,
            orders: row.orders.map { order in
                CustomerExplanation.Order(
                    orderID: order.orderID, orderNumber: order.orderNumber, totalPrice: order.totalPrice,
                    discountAmount: order.discountAmount, currency: order.currency, redeemedAt: order.redeemedAt,
                    counts: order.counts, reasonCode: order.reasonCode,
                    reason: order.counts
                        ? "counts: the qualifying order of \(row.referralID)"
                        : (order.reasonDetail ?? "does not count"))
            })
    }

    static func ledger(_ entry: LedgerEntry) -> CustomerExplanation.Ledger {
        CustomerExplanation.Ledger(
            email: entry.email, phone: entry.phone,
            values: OkendoAttribute.allCases.map { .init(name: $0.rawValue, value: entry.values[$0]) },
            acceptedAt: entry.acceptedAt, runID: entry.runID, runKey: entry.runKey, runCommand: entry.runCommand)
    }
}
