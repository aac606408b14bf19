import Foundation
import Postgres
import ReferralStore
import TestSupport
import Testing

@testable import ReferralSyncCLI
@testable import ReferralSyncJob

/// Configuration typed by hand at 2 a.m.: each mistake gives its exit status and one line saying what to fix,
/// never a crash, never a secret, and never a report folder.
@Suite struct ConfigurationErrorTests {
    /// The throwaway cluster's port, from the environment `make test` sets.
    static var port: String { ProcessInfo.processInfo.environment["PGPORT"] ?? "5432" }

    /// Expects `run` to end with `status` and a closing line containing every one of `phrases`.
    static func expectFailure(
        _ result: (status: ReferralSyncJob.ExitStatus, message: String), _ status: ReferralSyncJob.ExitStatus,
        _ phrases: [String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(result.status == status, sourceLocation: sourceLocation)
        #expect(result.message.hasPrefix("referral-sync: exit \(status.rawValue): "), sourceLocation: sourceLocation)
        for phrase in phrases {
            #expect(result.message.contains(phrase), "\(result.message)", sourceLocation: sourceLocation)
        }
    }

    @Test func missingDatabaseURLSaysToSetIt() async throws {
        // libpq reads PG* from the process environment, so this runs the real binary with an environment that has
        // neither DATABASE_URL nor any PG* variable.
        let binary = try #require(ReferralSyncExecutable.url, "build the referral-sync executable first")
        let home = try makeTemporaryFolder("home")
        defer { try? FileManager.default.removeItem(atPath: home) }
        let result = try await ChildProcess.run(
            binary.path, ["run", "--dry-run", "--reports-dir", home + "/reports"],
            environment: ["HOME": home, "PATH": "/usr/bin:/bin", "PGCONNECT_TIMEOUT": "5"], seconds: 60)
        #expect(result.status == 78)
        #expect(result.output.contains("referral-sync: exit 78: DATABASE_URL is not set (nor any PG* variable)"))
        #expect(result.output.contains("Set DATABASE_URL to postgresql://user@host:port/dbname"))
        #expect(!FileManager.default.fileExists(atPath: home + "/reports"))
    }

    @Test func malformedDatabaseURLIsRefusedWithoutEchoingIt() async throws {
        let harness = try await JobHarness()
        let fromEnvironment = await harness.runCapturingMessage(
            [], environment: ["DATABASE_URL": "postgresql://sync:Tr0ub4dor@[::1/shop"])
        Self.expectFailure(
            (fromEnvironment.status, fromEnvironment.message), .configuration,
            ["DATABASE_URL cannot be parsed: ", "Expected a libpq conninfo"])
        #expect(!fromEnvironment.message.contains("Tr0ub4dor"))
        #expect(fromEnvironment.reports == nil)

        let fromCommandLine = await harness.runCapturingMessage(["--database-url", "host=db.internal dbname"])
        Self.expectFailure(
            (fromCommandLine.status, fromCommandLine.message), .usage, ["--database-url cannot be parsed: ", "missing"])
    }

    @Test func wrongPasswordIsAConfigurationErrorThatNeverShowsThePassword() async throws {
        let harness = try await JobHarness()
        let url = "postgresql://password_user:Wrong-Horse-7731@127.0.0.1:\(Self.port)/\(harness.database.name)"
        let result = await harness.runCapturingMessage([], environment: ["DATABASE_URL": url])
        Self.expectFailure(
            (result.status, result.message), .configuration,
            ["PostgreSQL refused the credentials", "password authentication failed", "Check the user and password"])
        #expect(!result.message.contains("Wrong-Horse-7731"))
        #expect(result.reports == nil)
    }

    @Test func unreachableDatabaseIsExit69() async throws {
        let harness = try await JobHarness()
        let result = await harness.runCapturingMessage(
            [], environment: ["DATABASE_URL": "postgresql://referral@127.0.0.1:1/shop?connect_timeout=5"])
        Self.expectFailure((result.status, result.message), .unavailable, ["PostgreSQL is unreachable"])
    }

    @Test func databaseWithoutMigrationsSaysToRunMigrate() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let result = await runCommand(
            ["run", "--dry-run"], environment: ["DATABASE_URL": database.conninfo, "REFERRAL_SYNC_QUIET": "1"])
        Self.expectFailure(result, .configuration, ["at migration 0", "run `referral-sync migrate` first"])
    }

    @Test func databaseMigratedByANewerVersionIsRefusedByRunAndMigrate() async throws {
        let harness = try await JobHarness()
        _ = try harness.database.query(
            "INSERT INTO referral_sync_schema_migrations (version, name, checksum) VALUES ($1, 'future', 'x')",
            [String(Migrations.latestVersion + 1)])
        let run = await harness.runCapturingMessage()
        Self.expectFailure(
            (run.status, run.message), .configuration,
            ["migrated by a newer referral-sync (migration \(Migrations.latestVersion + 1)", "upgrade referral-sync"])
        let migrate = await runCommand(["migrate"], environment: ["DATABASE_URL": harness.database.conninfo])
        Self.expectFailure(migrate, .configuration, ["migrated by a newer referral-sync"])
        // Nothing was applied or recorded by either.
        #expect(try harness.database.query("SELECT count(*) FROM referral_sync_runs").first?.int(0) == 0)
    }

    @Test func definitionsOfAnotherVersionSayToRunMigrate() async throws {
        let harness = try await JobHarness()
        _ = try harness.database.query(
            "UPDATE referral_sync_schema_definitions SET checksum = 'other' WHERE name = '55_revenue'")
        let run = await harness.runCapturingMessage()
        Self.expectFailure(
            (run.status, run.message), .configuration,
            ["SQL definitions (55_revenue) are not this referral-sync's", "run `referral-sync migrate`"])
        let migrate = await runCommand(["migrate"], environment: ["DATABASE_URL": harness.database.conninfo])
        #expect(migrate.status == .success)
        #expect(await harness.runCapturingMessage().status == .success)
    }

    @Test func migrateRefusesADatabaseThatIsNotUTF8() async throws {
        let name = "ascii_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12))"
        let server = try TestDatabase.serverConninfo()
        let admin = try PostgresConnection(conninfo: server + " dbname=postgres")
        defer {
            try? admin.run("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            admin.close()
        }
        try admin.run("CREATE DATABASE \(name) ENCODING 'SQL_ASCII' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'")
        let result = await runCommand(["migrate"], environment: ["DATABASE_URL": server + " dbname=\(name)"])
        Self.expectFailure(
            result, .configuration,
            ["referral-sync needs a UTF8 database, this one is SQL_ASCII", "ENCODING 'UTF8'"])
        // migrate applies its migrations in one transaction: nothing was applied, nothing half-made.
        let connection = try PostgresConnection(conninfo: server + " dbname=\(name)")
        defer { connection.close() }
        #expect(try connection.query("SELECT count(*) FROM referral_sync_schema_migrations").first?.int(0) == 0)
        #expect(try connection.query("SELECT to_regclass('customers') IS NULL").first?.bool(0) == true)
    }

    @Test func unknownOptionIsAUsageError() async throws {
        let harness = try await JobHarness()
        let result = await harness.runCapturingMessage(["--as-off", "2024-01-01"])
        Self.expectFailure((result.status, result.message), .usage, ["unknown option --as-off", "see --help"])
        let command = await runCommand(["sync"], environment: harness.environment)
        Self.expectFailure(command, .usage, ["unknown command 'sync'"])
    }

    @Test func malformedAsOfIsUsageOnTheCommandLineAndConfigurationFromTheEnvironment() async throws {
        let harness = try await JobHarness()
        let line = await harness.runCapturingMessage(["--as-of", "2024-13-45"])
        Self.expectFailure(
            (line.status, line.message), .usage, ["--as-of is '2024-13-45'", "ISO 8601 time with a zone"])
        let variable = await harness.runCapturingMessage([], environment: ["REFERRAL_SYNC_AS_OF": "yesterday"])
        Self.expectFailure((variable.status, variable.message), .configuration, ["REFERRAL_SYNC_AS_OF is 'yesterday'"])
        let naive = await harness.runCapturingMessage(["--as-of", "2024-03-01T00:00:00"])
        Self.expectFailure((naive.status, naive.message), .usage, ["--as-of is '2024-03-01T00:00:00'"])
    }

    @Test func zeroRequestsPerSecondIsRefused() async throws {
        let harness = try await JobHarness()
        let line = await harness.runCapturingMessage(["--max-rps", "0"])
        Self.expectFailure((line.status, line.message), .usage, ["--max-rps is '0'", "above 0"])
        let variable = await harness.runCapturingMessage([], environment: ["REFERRAL_SYNC_MAX_RPS": "0"])
        Self.expectFailure((variable.status, variable.message), .configuration, ["REFERRAL_SYNC_MAX_RPS is '0'"])
    }

    @Test func plainHTTPIsRefusedUnlessLoopback() async throws {
        let harness = try await JobHarness()
        for url in ["http://api.attentivemobile.com", "http://10.0.0.8:8080", "ftp://api.attentivemobile.com"] {
            let result = await harness.runCapturingMessage([], environment: ["ATTENTIVE_BASE_URL": url])
            Self.expectFailure(
                (result.status, result.message), .configuration,
                ["ATTENTIVE_BASE_URL '\(url)' is not https", "plain http is accepted only for a loopback"])
        }
        let garbage = await harness.runCapturingMessage([], environment: ["ATTENTIVE_BASE_URL": "not a url"])
        Self.expectFailure((garbage.status, garbage.message), .configuration, ["ATTENTIVE_BASE_URL is 'not a url'"])
        // The harness itself runs against http://127.0.0.1:<port>: loopback is allowed.
        let (status, _) = await harness.run(["--currency", "USD"])
        #expect(status == .success)
    }

    @Test func emptyAPIKeyIsRefusedUnlessDryRun() async throws {
        let harness = try await JobHarness()
        for key in ["", "   "] {
            let result = await harness.runCapturingMessage([], environment: ["ATTENTIVE_API_KEY": key])
            Self.expectFailure(
                (result.status, result.message), .configuration,
                ["ATTENTIVE_API_KEY is not set or empty", "or use --dry-run"])
        }
        let (dryRun, _) = await harness.run(["--dry-run", "--currency", "USD"], environment: ["ATTENTIVE_API_KEY": ""])
        #expect(dryRun == .success)
    }

    @Test func unsupportedPhoneRegionAndAttemptsAreRefused() async throws {
        let harness = try await JobHarness()
        let region = await harness.runCapturingMessage(["--default-phone-region", "GB"])
        Self.expectFailure(
            (region.status, region.message), .usage, ["--default-phone-region is 'GB'", "US or CA"])
        let attempts = await harness.runCapturingMessage([], environment: ["REFERRAL_SYNC_MAX_ATTEMPTS": "0"])
        Self.expectFailure(
            (attempts.status, attempts.message), .configuration, ["REFERRAL_SYNC_MAX_ATTEMPTS is '0'", "1 to 20"])
    }
}

/// The `referral-sync` binary next to the test bundle, for the few tests that need a process of their own.
enum ReferralSyncExecutable {
    static let url: URL? = {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments.first ?? "").deletingLastPathComponent(),
            Bundle.main.bundleURL.deletingLastPathComponent(),
            Bundle.main.bundleURL,
            URL(fileURLWithPath: repositoryRoot + "/.build/debug"),
        ]
        for directory in candidates {
            let binary = directory.appendingPathComponent("referral-sync")
            if FileManager.default.isExecutableFile(atPath: binary.path) { return binary }
        }
        return nil
    }()
}
