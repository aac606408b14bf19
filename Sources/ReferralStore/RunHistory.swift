import Postgres
import ReferralModel

/// One row of `referral_sync_runs`.
public struct RunRecord: Sendable, Equatable {
    public var runID: Int64
    public var runKey: String
    public var command: String
    public var arguments: String
    public var startedAt: String
    public var finishedAt: String?
    public var exitStatus: Int?
    public var dryRun: Bool
    public var outcomeCounts: String
    public var stageSeconds: String
    public var message: String?
}

/// The run history in PostgreSQL: one row per run, written at start and completed at the end.
public enum RunHistory {
    /// Records that a run started. `arguments` must already be free of secrets.
    public static func begin(
        on connection: PostgresConnection, runKey: String, command: String, arguments: String, asOf: Timestamp?,
        dryRun: Bool
    ) throws -> Int64 {
        let rows = try connection.query(
            """
            INSERT INTO referral_sync_runs (run_key, command, arguments, as_of, dry_run)
            VALUES ($1, $2, $3, $4::timestamptz, $5::boolean) RETURNING run_id
            """, [runKey, command, arguments, asOf?.description, dryRun ? "true" : "false"])
        guard let id = rows.first?[0].flatMap({ Int64($0) }) else {
            throw PostgresError(code: .unexpectedResponse, message: "INSERT INTO referral_sync_runs returned no id")
        }
        return id
    }

    /// Records how a run ended.
    /// - Parameters:
    ///   - outcomeCounts: JSON object text, e.g. `{"synced": 10}`.
    ///   - stageSeconds: JSON object text, e.g. `{"recompute": 1.2}`.
    public static func finish(
        on connection: PostgresConnection, runID: Int64, exitStatus: Int, outcomeCounts: String, stageSeconds: String,
        message: String?
    ) throws {
        try connection.execute(
            """
            UPDATE referral_sync_runs SET finished_at = now(), exit_status = $2::integer,
                outcome_counts = $3::jsonb, stage_seconds = $4::jsonb, message = $5
            WHERE run_id = $1::bigint
            """, [String(runID), String(exitStatus), outcomeCounts, stageSeconds, message])
    }

    /// The newest `limit` runs, newest first.
    public static func recent(on connection: PostgresConnection, limit: Int) throws -> [RunRecord] {
        try connection.query(
            """
            SELECT run_id, run_key, command, arguments, referral_sync_timestamp(started_at) AS started_at,
                   referral_sync_timestamp(finished_at) AS finished_at, exit_status, dry_run,
                   outcome_counts::text AS outcome_counts, stage_seconds::text AS stage_seconds, message
            FROM referral_sync_runs ORDER BY run_id DESC LIMIT $1::integer
            """, [String(limit)]
        ).map { row in
            RunRecord(
                runID: Int64(try row.value("run_id") ?? "") ?? 0, runKey: try row.value("run_key") ?? "",
                command: try row.value("command") ?? "", arguments: try row.value("arguments") ?? "",
                startedAt: try row.value("started_at") ?? "", finishedAt: try row.value("finished_at"),
                exitStatus: try row.value("exit_status").flatMap { Int($0) },
                dryRun: try row.value("dry_run") == "t", outcomeCounts: try row.value("outcome_counts") ?? "{}",
                stageSeconds: try row.value("stage_seconds") ?? "{}", message: try row.value("message"))
        }
    }
}
