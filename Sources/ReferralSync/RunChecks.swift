import Postgres
import ReferralStore

/// A check a run makes on itself before it reports: every input row is accounted for.
extension SyncRun {
    /// Adds up each input table: read = counted + not participants + rejected. A difference means two
    /// definitions disagree; it is logged and shown in the summary, never hidden.
    func accountForRows(
        on reader: PostgresConnection, parameters: RecomputeParameters, recorder: RunRecorder
    ) throws {
        recorder.recordAccounts(try RowAccountingQuery.accounts(on: reader, parameters))
        for account in recorder.counts.tableAccounts where account.unaccounted != 0 {
            logger.error(
                "input rows do not add up", [("table", account.table), ("unaccounted", String(account.unaccounted))])
        }
    }
}
