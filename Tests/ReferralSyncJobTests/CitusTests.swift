import Foundation
import Postgres
import TestSupport
import Testing

@testable import ReferralSyncCLI
@testable import ReferralSyncJob

/// The workers' ports `scripts/with-citus.sh` exports; nil outside it.
private let citusWorkers = ProcessInfo.processInfo.environment["REFERRAL_SYNC_CITUS_WORKERS"]

/// referral-sync on Citus (issue 28), against the coordinator and two workers `scripts/with-citus.sh` starts:
/// `make test-citus` runs these alone, and `make test` runs them when Citus is installed (otherwise it prints why
/// not). Each test is a store of its own: a schema of the one database, made a distributed schema by
/// `citus.enable_schema_based_sharding` (Citus 12+), so its tables live together on one node.
@Suite(.enabled(if: citusWorkers != nil, "needs a Citus cluster: make test-citus"))
struct CitusTests {
    let environment = ProcessInfo.processInfo.environment.filter { $0.key.hasPrefix("PG") || $0.key == "DATABASE_URL" }
    let schema = "store_" + UUID().uuidString.prefix(8).lowercased()

    func coordinator() throws -> PostgresConnection {
        try PostgresConnection(conninfo: environment["DATABASE_URL"] ?? "")
    }

    /// The environment with `options` (`-c name=value …`) on every session of the job: libpq's `options`
    /// parameter, in the URL.
    func with(_ options: String) -> [String: String] {
        let url =
            (environment["DATABASE_URL"] ?? "") + "?options="
            + (options.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
        return environment.merging(["DATABASE_URL": url]) { $1 }
    }

    @Test func migrateMakesADistributedSchemaWhoseTablesLiveOnOneNode() async throws {
        let (status, message) = await runCommand(
            ["migrate", "--schema", schema, "--create-schema"],
            environment: with("-c citus.enable_schema_based_sharding=on -c citus.enable_unsafe_triggers=on"))
        #expect(status == .success, "\(message)")
        let connection = try coordinator()
        defer { connection.close() }
        #expect(try connection.query("SELECT 1 FROM citus_schemas WHERE schema_name::text = $1", [schema]).count == 1)
        let nodes = try connection.query(
            """
            SELECT DISTINCT s.nodeport FROM citus_shards s
            WHERE s.table_name::text LIKE $1 || '.%'
            """, [schema])
        #expect(nodes.count == 1, "every table of the store on one node: \(nodes.map { $0[0] ?? "" })")
        let tables = try connection.query(
            "SELECT count(*) FROM citus_shards s WHERE s.table_name::text LIKE $1 || '.%'", [schema])
        #expect(Int(tables.first?[0] ?? "0") ?? 0 > 20, "the input tables and referral-sync's own")
    }

    @Test func aStatementCitusRefusesIsAMigrationFailureNamingTheFile() async throws {
        // Without citus.enable_unsafe_triggers, Citus refuses the change-note triggers on the store's tables.
        let (status, message) = await runCommand(
            ["migrate", "--schema", schema, "--create-schema"],
            environment: with("-c citus.enable_schema_based_sharding=on -c citus.enable_unsafe_triggers=off"))
        #expect(status == .configuration, "\(message)")
        #expect(message.contains("sql/definitions/70_change_notes.sql"), "\(message)")
        #expect(message.contains("triggers are not supported on distributed tables"), "\(message)")
        #expect(!message.contains("input tables"), "never reported as bad input data")
    }
}
