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
        + "several at once, or --from-file F, one a line. Exit 65 when a PERSON matches no one (nothing is erased), "
        + "1 when something could not be erased."

    static func run(
        _ arguments: [String], environment: [String: String], stopSignal: StopSignal,
        output: @escaping @Sendable (String) -> Void
    ) async -> ExitStatus {
        // The people never reach the run history: only the options are kept.
        let (people, optionArguments) = ReferralSyncCommand.positionalArguments(arguments, JobOptions.forgetOptions)
        return await JobCommand.run(
            optionArguments, command: "forget", summary: summary, options: JobOptions.forgetOptions,
            environment: environment, output: output, sendsToAttentive: false,
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
            await SyncRun(configuration: configuration, logger: logger, stopSignal: stopSignal).forget(asked)
        }
    }
}
