import Options
import ReferralSyncJob

/// `referral-sync explain CUSTOMER`: one customer's referrals, orders, attributes and what Attentive was told,
/// from the same SQL as the nightly run. Writes nothing but the refresh of the kept recompute.
enum ExplainCommand {
    static let summary =
        "Explain one customer's numbers: every referral and order and whether it counts (and why not), the four "
        + "attributes and how they follow, the ledger, pending values and what the next run sends. CUSTOMER is a "
        + "customer_id, an email or a phone, read by the job's identity rules. Prints Markdown (or --format csv / "
        + "json); exit 65 when no customer, or several, match."

    static func run(
        _ arguments: [String], environment: [String: String], output: @escaping @Sendable (String) -> Void
    ) async -> ExitStatus {
        let configuration: RunConfiguration
        let options: ParsedOptions
        let customer: String
        let format: ExplainFormat
        do {
            let (asked, optionArguments) = try customerArgument(arguments)
            let parsed = try ParsedOptions(
                optionArguments, options: JobOptions.explainOptions, environment: environment)
            guard try !parsed.value(JobOptions.help) else {
                output(
                    helpText(
                        program: "referral-sync", command: "explain", summary: summary,
                        options: JobOptions.explainOptions, usageTail: "CUSTOMER [options]"))
                return .success
            }
            guard let asked else {
                throw UsageError("explain needs a CUSTOMER: a customer_id, an email or a phone (see --help)")
            }
            options = parsed
            customer = asked
            format = try options.value(JobOptions.explainFormat)
            configuration = try RunConfiguration(
                options: options, environment: environment, arguments: arguments, sendsToAttentive: false)
        } catch {
            return ReferralSyncCommand.fail(error)
        }
        let logger = ReferralSyncCommand.makeLogger(options, secrets: configuration.secrets)
        switch await SyncRun(configuration: configuration, logger: logger).explain(customer) {
        case .success(let explanation):
            output(explanation.rendered(format))
            return .success
        case .failure(let error):
            ReferralSyncCommand.printInstruction(error.status, error.description)
            return error.status
        }
    }

    /// Splits off the one argument that is not an option or an option's value: the customer.
    /// - Throws: `UsageError` when more than one is given.
    static func customerArgument(_ arguments: [String]) throws(UsageError) -> (String?, [String]) {
        let (customers, rest) = ReferralSyncCommand.positionalArguments(arguments, JobOptions.explainOptions)
        guard customers.count <= 1 else {
            throw UsageError(
                "explain takes one CUSTOMER, got '\(customers[0])' and '\(customers[1])'; quote a value with spaces")
        }
        return (customers.first, rest)
    }
}
