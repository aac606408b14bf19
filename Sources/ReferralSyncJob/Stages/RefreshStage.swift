import Postgres
import ReferralModel
import ReferralStore

/// Brings the kept recompute up to date (README "Incremental recompute"): only the customers whose inputs
/// changed, or everyone when the rules, parameters or counts say so.
enum RefreshStage {
    /// Refreshes on `lock` and exports a snapshot of the result for the readers; the caller releases it once
    /// they have imported it.
    /// - Parameter countRows: Count the input tables' rows for the row accounting. Only `run` accounts for rows;
    ///   `drift`, `revenue` and `explain` pass false and the state keeps the last counts (the next run counts
    ///   again, on its own snapshot): at ten million customers the counting is 17 s of a refresh that has nothing
    ///   else to do.
    static func refresh(
        _ context: JobContext, _ parameters: RecomputeParameters, on lock: PostgresConnection,
        stages: inout StageTimer, countRows: Bool
    ) throws -> ExportedSnapshot {
        let snapshot = try ParticipantStateStore.refreshAndExportSnapshot(
            on: lock, parameters, full: context.configuration.fullRecompute, countRows: countRows)
        let refresh = snapshot.refresh
        context.logger.info(
            "recompute brought up to date",
            [
                ("mode", refresh.mode.rawValue), ("reason", refresh.reason ?? "-"),
                ("recomputed", String(refresh.recomputed)),
            ])
        stages.finish("refresh")
        return snapshot
    }
}
