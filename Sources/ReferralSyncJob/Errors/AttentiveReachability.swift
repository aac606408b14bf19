import Attentive

/// When a run that could not reach Attentive ends 69 rather than 1.
enum AttentiveReachability {
    /// The run's verdict when Attentive never answered: every attempt of the run failed to connect or timed out
    /// and not one got an HTTP status back. That is an outage (69: the scheduler retries later), not a few failed
    /// rows (1). One HTTP answer of any status, even an error, means Attentive is reachable.
    /// - Parameter lastError: The last failure without an answer, shown so a TLS or certificate problem is named.
    /// - Returns: The error to end the run with, or `nil` when Attentive answered at least once or nothing was sent.
    static func unreachable(_ statistics: ClientStatistics, lastError: String? = nil) -> JobError? {
        guard statistics.requestsSent > 0, statistics.responsesByStatus.isEmpty else { return nil }
        return JobError(
            .unavailable,
            "Attentive is unreachable: none of \(statistics.requestsSent) attempts got an HTTP answer "
                + "(connection errors: \(statistics.connectionErrors), timeouts: \(statistics.timeouts))"
                + (lastError.map { "; last error: " + RunRecorder.printable($0) } ?? ""),
            remedy: "Check ATTENTIVE_BASE_URL and the network; the values stay pending and the next run sends them.")
    }
}
