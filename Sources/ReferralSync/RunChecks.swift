import Postgres
import ReferralStore

/// A check a run makes on itself before it reports: every input row is accounted for.
extension SyncRun {
    /// Adds up each input table: read = counted + not participants + rejected. A difference means two
    /// definitions disagree; it is logged and shown in the summary, never hidden.
    /// - Parameter accounts: From `sql/queries/row_accounting.sql` on the run's snapshot (``RejectedRowsPass``),
    ///   after the recorder has counted the rejected rows.
    func accountForRows(_ accounts: [TableAccount], recorder: RunRecorder) {
        recorder.recordAccounts(accounts)
        for account in recorder.counts.tableAccounts where account.unaccounted != 0 {
            logger.error(
                "input rows do not add up", [("table", account.table), ("unaccounted", String(account.unaccounted))])
        }
    }
}
