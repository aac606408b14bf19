import Postgres
import ReferralModel
import ReferralStore

/// Refresh and read: brings the kept recompute up to date on the lock's connection, then opens the participant
/// cursor on a reader and starts the rejected rows and row accounting beside it, all three on the one snapshot
/// the refresh exported, so attributes, rejected rows and accounting are one consistent picture.
struct ReadStage {
    let reader: PostgresConnection
    let cursor: ParticipantCursor
    /// Writes `rejected_rows.csv` and `warnings.csv` and reads the row accounting, on a connection and thread of
    /// its own.
    let rejectedRows: RejectedRowsPass
    /// Writes `attributes.csv`, on a connection and thread of its own.
    let attributesFile: AttributesFilePass
    let refresh: StateRefresh

    /// - Parameters:
    ///   - lock: The connection holding the run lock, otherwise idle: the refresh runs on it.
    ///   - rejectedRowsCSV: Where the rejected rows are written.
    ///   - warningsCSV: Where the participants sent with a warning are written.
    static func open(
        _ context: JobContext, parameters: RecomputeParameters, on lock: PostgresConnection,
        stages: inout StageTimer, rejectedRowsCSV: String, warningsCSV: String, attributesCSV: String
    ) async throws -> ReadStage {
        let snapshot = try RefreshStage.refresh(context, parameters, on: lock, stages: &stages, countRows: true)
        defer { snapshot.release() }
        let reader = try context.connect()
        try ParticipantStateStore.importSnapshot(snapshot, on: reader)
        let rejectedRows = try RejectedRowsPass(
            connection: try context.connect(), snapshot: snapshot, csvPath: rejectedRowsCSV, warningsPath: warningsCSV)
        let attributesFile = try AttributesFilePass(
            connection: try context.connect(), snapshot: snapshot, csvPath: attributesCSV, shard: parameters.shard,
            currency: parameters.currency)
        snapshot.release()
        context.logger.info(
            "recomputing attributes",
            [
                ("as_of", context.configuration.asOf.description), ("currency", parameters.currency.code),
                ("shard", context.configuration.shard.description),
            ])
        do {
            // Checks that the snapshot's recompute is for these parameters.
            let cursor = try AttributeQuery.openCursor(
                on: reader, parameters, retryRefused: context.configuration.retryRefused, changedOnly: true)
            return ReadStage(
                reader: reader, cursor: cursor, rejectedRows: rejectedRows, attributesFile: attributesFile,
                refresh: snapshot.refresh)
        } catch {
            // The reader first: a refresh elsewhere may be waiting for it, and the passes for that refresh.
            try? reader.run("ROLLBACK")
            _ = await rejectedRows.finish()
            _ = await attributesFile.finish()
            throw error
        }
    }

    /// Ends the reader's transaction and closes it (the rejected rows finish on their own connection).
    func close() {
        try? cursor.close()
        try? reader.run("ROLLBACK")
        reader.close()
    }
}
