import Postgres
import ReferralStore

/// A check a run makes on itself before it reports: every input row is accounted for.
extension SyncRun {
    /// Adds up each input table: read = counted + not participants + rejected. A difference means two
    /// definitions disagree; it is logged and shown in the summary, never hidden.
    /// - Parameter accounts: From `sql/queries/row_accounting.sql` on the run's snapshot (``RejectedRowsPass``),
    ///   after the recorder has counted the rejected rows.
    /// - Returns: Whether every table adds up. When one does not, the kept recompute may have missed a change
    ///   (a load with the triggers disabled, say), so the caller asks the next run for a full recompute.
    @discardableResult
    func accountForRows(_ accounts: [TableAccount], recorder: RunRecorder) -> Bool {
        recorder.recordAccounts(accounts)
        var balanced = true
        for account in recorder.counts.tableAccounts where account.unaccounted != 0 {
            balanced = false
            logger.error(
                "input rows do not add up; the next run recomputes every customer",
                [("table", account.table), ("unaccounted", String(account.unaccounted))])
        }
        return balanced
    }
}
