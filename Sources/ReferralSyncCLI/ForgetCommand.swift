import Foundation
import Options
import ReferralSyncJob

/// `referral-sync forget PERSON…`: erase people from referral-sync's own tables and kept report folders, and add
/// their identities to the suppression list so no command sends or lists them again (README "Personal data").
enum ForgetCommand {
    static let summary =
        "Forget people (an erasure request): erase their email, phone, name and link from referral-sync's tables "
        + "and kept report folders, keeping ids, hashes and amounts; never send them again (their identities join "
        + "the suppression list as salted hashes). PERSON is a customer_id, an email or a phone, as for explain; "
        + "several at once, or --from-file F, one a line. With --request-deletion, also file Attentive's deletion "
        + "request for each email and phone; --status (no PERSON) prints each recorded request's processed state. "
        + "Exit 65 when a PERSON matches no one (nothing is erased), 1 when something could not be erased or "
        + "requested (or, with --status, read)."

    static func run(
        _ arguments: [String], environment: [String: String], stopSignal: StopSignal,
        output: @escaping @Sendable (String) -> Void
    ) async -> ExitStatus {
        // The people never reach the run history: only the options are kept.
        let (people, optionArguments) = ReferralSyncCommand.positionalArguments(arguments, JobOptions.forgetOptions)
        // Only a run that talks to Attentive needs its key and base URL; a bad command line is reported by the
        // parse that follows, with its usual message.
        let parsed = try? ParsedOptions(optionArguments, options: JobOptions.forgetOptions, environment: environment)
        if (try? parsed?.value(JobOptions.deletionStatus)) == true {
            return await status(optionArguments, people: people, environment: environment, output: output)
        }
        let requestDeletion = (try? parsed?.value(JobOptions.requestDeletion)) == true
        return await JobCommand.run(
            optionArguments, command: "forget", summary: summary, options: JobOptions.forgetOptions,
            environment: environment, output: output, sendsToAttentive: requestDeletion,
            own: { options in
                var asked = people
                if let file = try options.value(JobOptions.fromFile) {
                    guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                        throw UsageError("--from-file \(file) cannot be read as UTF-8 text")
                    }
                    asked += text.split(whereSeparator: \.isNewline).map {
                        $0.trimmingCharacters(in: .whitespaces)
                    }.filter { !$0.isEmpty }
                }
                guard !asked.isEmpty else {
                    throw UsageError(
                        "forget needs a PERSON (a customer_id, an email or a phone) or --from-file (see --help)")
                }
                return asked
            }
        ) { configuration, asked, logger in
            await SyncRun(configuration: configuration, logger: logger, stopSignal: stopSignal)
                .forget(asked, requestDeletion: requestDeletion)
        }
    }

    /// `forget --status`: one line per recorded deletion request; exit 0, or 1 when some could not be read.
    static func status(
        _ arguments: [String], people: [String], environment: [String: String],
        output: @escaping @Sendable (String) -> Void
    ) async -> ExitStatus {
        let configuration: RunConfiguration
        let options: ParsedOptions
        do {
            guard
                let parsed = try ReferralSyncCommand.parse(
                    arguments, command: "forget", summary: summary, options: JobOptions.forgetOptions,
                    environment: environment, output: output)
            else { return .success }
            guard people.isEmpty, try parsed.value(JobOptions.fromFile) == nil,
                try !parsed.value(JobOptions.requestDeletion)
            else {
                throw UsageError("forget --status takes no PERSON, --from-file or --request-deletion")
            }
            options = parsed
            configuration = try RunConfiguration(options: options, environment: environment, arguments: arguments)
        } catch {
            return ReferralSyncCommand.fail(error)
        }
        let logger = ReferralSyncCommand.makeLogger(options, secrets: configuration.secrets)
        switch await SyncRun(configuration: configuration, logger: logger).deletionRequestStatus() {
        case .success(let reports):
            if reports.isEmpty { output("no deletion requests recorded (forget --request-deletion files them)\n") }
            for report in reports { output(report.line + "\n") }
            let unreadable = reports.filter { $0.processed == nil }.count
            guard unreadable == 0 else {
                let message =
                    "\(unreadable) of \(reports.count) deletion requests could not be read from Attentive: "
                    + "see the lines marked unreadable, then run forget --status again"
                ReferralSyncCommand.printInstruction(.needsAttention, message)
                return .needsAttention
            }
            return .success
        case .failure(let error):
            ReferralSyncCommand.printInstruction(error.status, error.description)
            return error.status
        }
    }
}
