import Foundation
import Postgres
import ReferralModel
import ReferralStore
import TestSupport
import Testing

@testable import ReferralSyncCLI
@testable import ReferralSyncJob

/// Issue 22's defects: what went wrong while one rule had several copies. Each rule now has one home; these
/// tests hold it there.
@Suite struct OneHomeTests {
    @Test func theUnknownCommandLineNamesEveryCommandTheUsageLists() async throws {
        let result = await runCommand(["sync"], environment: [:])
        #expect(result.status == .usage)
        let usage = ReferralSyncCommand.usage
        for name in ["run", "drift", "events", "revenue", "migrate", "history", "explain", "forget"] {
            #expect(result.message.contains(name), "\(result.message)")
            #expect(usage.contains("\n  \(name) "), "\(usage)")
        }
        #expect(result.message.contains("explain and forget (see --help)"), "\(result.message)")
    }

    @Test func explainNeitherNeedsNorChecksTheAttentiveVariables() async throws {
        let harness = try await JobHarness()
        // A base URL that `run` refuses (78): explain sends nothing, so it reads the database and answers 65 for
        // a customer that does not exist.
        let result = await runCommand(
            ["explain", "nobody@example.com", "--currency", "USD"],
            environment: harness.environment.merging(["ATTENTIVE_BASE_URL": "http://host"]) { $1 })
        #expect(result.status == .dataError, "\(result.message)")
        #expect(result.message.contains("no customer has the id 'nobody@example.com'"), "\(result.message)")
    }

    @Test func aShardCountAboveTheBoundIsRefusedBeforeAnythingRuns() async throws {
        let harness = try await JobHarness()
        for count in ["1001", "10000", "2147483648", "9223372036854775807"] {
            let line = await harness.runCapturingMessage(["--shard", "1/\(count)"])
            #expect(line.status == .usage, "\(count): \(line.message)")
            #expect(line.message.contains("K/N with 1 <= K <= N <= 1000"), "\(line.message)")
            let variable = await harness.runCapturingMessage([], environment: ["REFERRAL_SYNC_SHARD": "1/\(count)"])
            #expect(variable.status == .configuration, "\(count): \(variable.message)")
        }
        let (status, _) = await harness.run(["--shard", "1000/1000", "--currency", "USD"])
        #expect(status == .success)
    }

    @Test func noTwoLocksShareAKeyForAnyShardCountAllowed() {
        let stores = [StoreKeys.defaultStore, "eu"]
        var owner: [Int64: String] = [:]
        func claim(_ key: Int64, _ name: String) {
            if let earlier = owner[key] { Issue.record("\(name) and \(earlier) share the key \(key)") }
            owner[key] = name
        }
        for store in stores {
            for lock in StoreKeys.Lock.allCases { claim(StoreKeys.key(lock, store: store), "\(store) \(lock)") }
            for lock in [StoreKeys.Lock.run, .events] {
                for count in 2...StoreKeys.maximumShardCount {
                    // The highest and lowest shard of each count: the ends of every range.
                    for number in Set([1, 2, count - 1, count]) {
                        let shard = Shard(number: number, count: count)
                        guard let key = StoreKeys.shardKey(lock, shard: shard, store: store) else {
                            Issue.record("no key for \(shard)")
                            continue
                        }
                        claim(key, "\(store) \(lock) \(shard)")
                    }
                }
            }
        }
        #expect(StoreKeys.shardKey(.run, shard: .all, store: StoreKeys.defaultStore) == nil)
        // The default store's keys are the ones referral-sync has always taken.
        #expect(StoreKeys.key(.run, store: StoreKeys.defaultStore) == 7_226_175_002_000)
        #expect(StoreKeys.key(.migration, store: StoreKeys.defaultStore) == 7_226_175_001)
    }

    @Test func aFaultOfTheJobsOwnIsSoftwareErrorNotBadInput() throws {
        let database = try TestDatabase.create(prefix: "home")
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        func failure(_ sql: String) -> any Error {
            do {
                try connection.run(sql)
            } catch {
                return error
            }
            return JobError(.success, "no error", remedy: "")
        }
        // A RAISE (as a migration or a definition of the job's own raises): 70, not 65.
        let raised = JobError(classifying: failure("DO $$ BEGIN RAISE EXCEPTION 'a check of our own'; END $$"))
        #expect(raised.status == .software, "\(raised)")
        #expect(raised.remedy.contains("report it with the run id"))
        // A column a query of the job's own reads by name and did not get: 70.
        let row = try #require(try connection.query("SELECT 1 AS one").first)
        let missingColumn: any Error
        do {
            _ = try row.value("two")
            missingColumn = JobError(.success, "no error", remedy: "")
        } catch {
            missingColumn = error
        }
        let missing = JobError(classifying: missingColumn)
        #expect(missing.status == .software, "\(missing)")
        // A value of the input the rules cannot compute with is still the input's: 65.
        #expect(JobError(classifying: failure("SELECT 'x'::numeric")).status == .dataError)
        // A table the job reads that is missing: 65 as before.
        #expect(JobError(classifying: failure("SELECT * FROM referrals")).status == .dataError)
        // A read-only server: 78, saying so.
        try connection.run("SET default_transaction_read_only = on")
        let readOnly = JobError(classifying: failure("CREATE TABLE t (x int)"))
        #expect(readOnly.status == .configuration, "\(readOnly)")
        #expect(readOnly.message.contains("read-only"))
        try connection.run("RESET default_transaction_read_only")
        // Refreshes that raced: another run changed the kept recompute, so try again (75).
        try Migrations.apply(on: connection)
        let usd = try #require(Currency(code: "USD"))
        let mismatch: any Error
        do {
            try ParticipantStateStore.verify(on: connection, RecomputeParameters(asOf: .now(), currency: usd))
            mismatch = JobError(.success, "no error", remedy: "")
        } catch {
            mismatch = error
        }
        #expect(mismatch is StateMismatch)
        #expect(JobError(classifying: mismatch).status == .locked)
    }
}

/// Issue 23: every variable of a fixed vocabulary (a flag, a number, a mode, a format, a zone's shape…) refuses a
/// text it does not know with 78 naming it, before the command connects or sends; on the command line, 64.
@Suite struct OptionVocabularyTests {
    static let unknownWord = "§not-a-value§"

    @Test func everyCommandRefusesAVariableItCannotReadBeforeItSendsAnything() async throws {
        let harness = try await JobHarness()
        var checked = 0
        for command in ReferralSyncCommand.commands {
            let extra = command.name == "explain" ? ["someone"] : []
            for option in command.options {
                guard let variable = option.environment, !option.accepts(Self.unknownWord) else { continue }
                let result = await runCommand(
                    [command.name] + extra,
                    environment: harness.environment.merging([variable: Self.unknownWord]) { $1 })
                #expect(result.status == .configuration, "\(command.name) \(variable): \(result.message)")
                #expect(
                    result.message.contains("\(variable) is '\(Self.unknownWord)'. Expected "),
                    "\(command.name) \(variable): \(result.message)")
                if option.takesValue {
                    let line = await runCommand(
                        [command.name] + extra + ["--\(option.name)", Self.unknownWord],
                        environment: harness.environment)
                    #expect(line.status == .usage, "\(command.name) --\(option.name): \(line.message)")
                }
                checked += 1
            }
        }
        #expect(checked >= 40, "the option table lists fewer vocabulary variables than expected: \(checked)")
        #expect(harness.simulator.statistics().requests == 0)
        let runs = try harness.database.query("SELECT count(*) FROM referral_sync_runs").first?.int(0)
        #expect(runs == 0)
    }
}
