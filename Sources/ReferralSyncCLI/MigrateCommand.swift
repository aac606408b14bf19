import Foundation
import Options
import Postgres
import ReferralStore
import ReferralSyncJob

/// `referral-sync migrate`: applies the migrations not yet applied and re-applies the definitions.
enum MigrateCommand {
    static func run(_ arguments: [String], environment: [String: String], output: (String) -> Void) -> ExitStatus {
        do {
            guard
                let options = try ReferralSyncCommand.parse(
                    arguments, command: "migrate", summary: "Apply referral-sync's migrations (idempotent).",
                    options: JobOptions.migrateOptions, environment: environment, output: output)
            else { return .success }
            let conninfo = try options.value(JobOptions.databaseURL) ?? ""
            let schema = try options.value(JobOptions.schema)
            if let schema {
                let admin = try PostgresConnection(conninfo: conninfo)
                defer { admin.close() }
                try StoreSchema.prepare(
                    schema, create: try options.value(JobOptions.createSchema), on: admin, output: output)
            }
            let connection = try PostgresConnection(conninfo: conninfo, schema: schema)
            defer { connection.close() }
            let applied = try Migrations.apply(on: connection)
            for migration in applied {
                output(
                    String(
                        format: "%04d_%@ %@\n", migration.version, migration.name,
                        migration.appliedNow ? "applied" : "already applied"))
            }
            return .success
        } catch {
            return ReferralSyncCommand.fail(error)
        }
    }
}

/// A store's schema before `migrate --schema` creates its tables in it.
enum StoreSchema {
    /// Creates `schema` when asked and missing; refuses a missing one otherwise.
    /// - Throws: `JobError` 78 naming the way to create it.
    static func prepare(_ schema: String, create: Bool, on connection: PostgresConnection, output: (String) -> Void)
        throws
    {
        let exists = try !connection.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]).isEmpty
        guard !exists else { return }
        guard create else {
            throw JobError(
                .configuration, "the schema \(schema) does not exist in this database",
                remedy: "Run `referral-sync migrate --schema \(schema) --create-schema` to create the store, or fix "
                    + "--schema / REFERRAL_SYNC_SCHEMA.")
        }
        let quoted = try connection.query("SELECT pg_catalog.quote_ident($1)", [schema]).first?[0] ?? ""
        try connection.run("CREATE SCHEMA IF NOT EXISTS \(quoted)")
        output("schema \(schema) created\n")
    }
}

/// `referral-sync history`: recent runs, newest first.
enum HistoryCommand {
    static func run(_ arguments: [String], environment: [String: String], output: (String) -> Void) -> ExitStatus {
        do {
            guard
                let options = try ReferralSyncCommand.parse(
                    arguments, command: "history", summary: "Show recent runs, newest first.",
                    options: JobOptions.historyOptions, environment: environment, output: output)
            else { return .success }
            let last = try options.value(JobOptions.last)
            let connection = try PostgresConnection(
                conninfo: try options.value(JobOptions.databaseURL) ?? "", schema: try options.value(JobOptions.schema))
            defer { connection.close() }
            try Migrations.verify(on: connection)
            output(HistoryTable.render(try RunHistory.recent(on: connection, limit: last)))
            return .success
        } catch {
            return ReferralSyncCommand.fail(error)
        }
    }
}

/// `referral-sync history` as a plain-text table.
enum HistoryTable {
    static func render(_ runs: [RunRecord]) -> String {
        let header = ["run_id", "run", "command", "started", "finished", "exit", "counts", "message"]
        let rows = runs.map { run in
            [
                String(run.runID), run.runKey, run.command + (run.dryRun ? " (dry run)" : ""), run.startedAt,
                run.finishedAt ?? "running", run.exitStatus.map(String.init) ?? "-", run.outcomeCounts,
                run.message ?? "",
            ]
        }
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], min(cell.count, 80)) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                let clipped = cell.count > 80 ? String(cell.prefix(77)) + "..." : cell
                return clipped + String(repeating: " ", count: max(0, widths[index] - clipped.count))
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n") + "\n"
    }
}
