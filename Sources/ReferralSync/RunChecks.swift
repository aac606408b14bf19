import Postgres
import ReferralStore

/// Checks a run makes on itself before it reports: that every input row is accounted for, and whether Attentive
/// answered at all.
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

    /// When requests were made and not one got an HTTP answer (connection refused, TLS failure, timeouts),
    /// Attentive is unreachable as a whole: exit 69 rather than 1, with the last failure.
    func attentiveUnreachable(_ counts: RunCounts) -> JobError? {
        guard counts.answeredRequests == 0, counts.unansweredRequests > 0 else { return nil }
        return JobError(
            .unavailable,
            "no request to Attentive at \(configuration.attentiveBaseURL.absoluteString) got an HTTP answer: "
                + "\(counts.lastUnansweredError ?? "no answer"); \(counts[.failed]) values stay pending",
            remedy: "Check the network, ATTENTIVE_BASE_URL and its TLS certificate; the next run sends them.")
    }
}
