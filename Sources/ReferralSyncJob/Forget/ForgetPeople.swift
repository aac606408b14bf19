import Foundation
import Postgres
import ReferralModel
import ReferralStore

extension SyncRun {
    /// `referral-sync forget PERSON…` (README "Personal data"): finds each person as `explain` does, adds their
    /// identities to the suppression list as salted hashes, erases what names them from every referral-sync table
    /// and kept report folder, and writes the audit row (the run history: who, when, how many; never whom). Under
    /// the run lock and the events lock, so no run or events run sends them meanwhile.
    /// With `requestDeletion`, files Attentive's deletion request for each identity after the erasure and records
    /// the request ids (``DeletionRequestFiling``).
    /// - Returns: 0; 1 when something that names them could not be erased or an identity could not be requested;
    ///   65 when a PERSON matches no one (then nothing is erased).
    public func forget(_ people: [String], requestDeletion: Bool = false) async -> RunResult {
        let context = self.context
        return await PipelineThread.run {
            await Session.open(context, command: "forget", dryRun: false) { session, stages in
                await ForgetPeople(context: context, session: session)
                    .run(people, requestDeletion: requestDeletion, stages: &stages)
            }
        }
    }
}

/// The forget path: lookup → suppression list and erasure (one transaction) → check every table → kept report
/// folders → the audit counts.
struct ForgetPeople {
    let context: JobContext
    let session: Session

    func run(_ people: [String], requestDeletion: Bool, stages: inout StageTimer) async -> CommandEnding {
        do {
            try RunLock.take(on: session.lock, shard: .all, kind: .events, store: session.store)
            let region = context.configuration.phoneRegion
            var lookups: [ForgetLookup] = []
            var unknown = 0
            for asked in people {
                let lookup = try ForgetStore.lookup(asked, phoneRegion: region, on: session.writer)
                if lookup.found { lookups.append(lookup) } else { unknown += 1 }
            }
            stages.finish("lookup")
            guard unknown == 0 else {
                // Which PERSON is not said: the message reaches logs and the run history.
                return ending(
                    .dataError,
                    "\(unknown) of the \(people.count) people given match no customer and no identity referral-sync "
                        + "knows; nothing was erased: check them (`referral-sync explain PERSON`) and run again",
                    Counts(people: people.count))
            }
            let person = ForgetNeedles(lookups)
            let added = try ForgetStore.erase(
                customers: person.customerIDs, emails: person.emails, phones: person.phones,
                patterns: person.tablePatterns, runID: session.runID, on: session.writer)
            stages.finish("erase")
            let left = try ForgetStore.remaining(patterns: person.tablePatterns, on: session.writer)
            stages.finish("check")
            let folders = ReportScrubber(
                directory: context.configuration.reportsDirectory, needles: person, runKey: context.runKey
            ).scrub()
            stages.finish("reports")
            var counts = Counts(people: people.count)
            counts.customers = person.customerIDs.count
            counts.identities = person.emails.count + person.phones.count
            counts.added = added
            counts.rewrittenFiles = folders.rewrittenFiles
            counts.deletedFolders = folders.deleted.count
            counts.role = try session.writer.query("SELECT current_user").first?[0] ?? ""
            if requestDeletion {
                let filed = try await DeletionRequestFiling(context: context, session: session)
                    .file(emails: person.emails, phones: person.phones)
                counts.requestIDs = filed.requestIDs
                counts.requestsFailed = filed.failed
                stages.finish("deletion requests")
            }
            for folder in folders.deleted {
                context.logger.warning("deleted a kept report folder that could not be rewritten", [("folder", folder)])
            }
            var problems: [String] = []
            if !left.isEmpty { problems.append("still named in " + left.joined(separator: ", ")) }
            if counts.requestsFailed > 0 {
                problems.append(
                    "\(counts.requestsFailed) of Attentive's deletion requests could not be filed (see the log); run "
                        + "forget --request-deletion again for them")
            }
            if !folders.failed.isEmpty {
                problems.append("report folders not rewritten or deleted: " + folders.failed.joined(separator: ", "))
            }
            guard problems.isEmpty else {
                return ending(
                    .needsAttention,
                    "forgot \(counts.identities) identities, but " + problems.joined(separator: "; ")
                        + ": erase these by hand, then run forget again", counts)
            }
            return ending(
                .success,
                "forgot \(counts.identities) identities of \(counts.customers) customers; rewrote "
                    + "\(counts.rewrittenFiles) report files, deleted \(counts.deletedFolders) report folders"
                    + (requestDeletion ? "; filed \(counts.requestIDs.count) deletion requests with Attentive" : ""),
                counts)
        } catch {
            let jobError = JobError(classifying: error)
            return ending(jobError.status, jobError.description, Counts(people: people.count))
        }
    }

    /// What the audit row and the closing line say: counts, never identities.
    struct Counts {
        var people: Int
        var customers = 0
        var identities = 0
        var added = 0
        var rewrittenFiles = 0
        var deletedFolders = 0
        var role = ""
        /// Attentive's ids of the deletion requests filed, and how many identities could not be requested.
        var requestIDs: [String] = []
        var requestsFailed = 0
    }

    private func ending(_ status: ExitStatus, _ message: String, _ counts: Counts) -> CommandEnding {
        var history = HistoryCounts()
        history.set("people", counts.people)
        history.set("customers", counts.customers)
        history.set("identities", counts.identities)
        history.set("identities_added", counts.added)
        history.set("report_files_rewritten", counts.rewrittenFiles)
        history.set("report_folders_deleted", counts.deletedFolders)
        history.set("role", text: counts.role)
        history.set("deletion_requests", text: counts.requestIDs.joined(separator: " "))
        history.set("deletion_requests_failed", counts.requestsFailed)
        return CommandEnding(
            status: status, message: message, report: nil, closingLine: "forget finished",
            closingFields: [
                ("people", String(counts.people)), ("customers", String(counts.customers)),
                ("identities", String(counts.identities)), ("report_files_rewritten", String(counts.rewrittenFiles)),
                ("report_folders_deleted", String(counts.deletedFolders)),
                ("deletion_requests", String(counts.requestIDs.count)),
            ],
            historyCounts: history)
    }
}

/// Every text that names the people being forgotten, as table patterns and as report-file needles.
struct ForgetNeedles {
    var customerIDs: [String] = []
    var emails: [String] = []
    var phones: [String] = []
    /// Texts found anywhere (lower-cased): emails and phones as stored and normalised, links, full names, and
    /// first and last names as JSON strings (event properties).
    var texts: [String] = []
    /// Values that name a person when a whole CSV field is exactly one of them (lower-cased): customer ids, names.
    var fields: Set<String> = []

    init(_ lookups: [ForgetLookup]) {
        var texts = Set<String>()
        var emails = Set<String>()
        var phones = Set<String>()
        var ids = Set<String>()
        func add(_ value: String?, to set: inout Set<String>) {
            if let value, !value.isEmpty { set.insert(value) }
        }
        for lookup in lookups {
            add(lookup.email, to: &emails)
            add(lookup.phone, to: &phones)
            for customer in lookup.customers {
                ids.insert(customer.customerID)
                add(customer.normalisedEmail, to: &emails)
                add(customer.normalisedPhone, to: &phones)
                for value in [customer.email, customer.phone, customer.shareableLink] {
                    add(value?.lowercased(), to: &texts)
                }
                let name = [customer.firstName, customer.lastName].compactMap { $0 }.joined(separator: " ")
                add(name.trimmingCharacters(in: .whitespaces).lowercased(), to: &texts)
                for part in [customer.firstName, customer.lastName].compactMap({ $0 }) where !part.isEmpty {
                    texts.insert("\"" + part.lowercased() + "\"")
                    fields.insert(part.lowercased())
                }
                fields.insert(customer.customerID.lowercased())
            }
        }
        texts.formUnion(emails.map { $0.lowercased() })
        texts.formUnion(phones.map { $0.lowercased() })
        customerIDs = ids.sorted()
        self.emails = emails.sorted()
        self.phones = phones.sorted()
        self.texts = texts.sorted()
    }

    /// The `ILIKE` patterns of ``texts``.
    var tablePatterns: [String] { texts.map(ForgetStore.pattern) }
}
