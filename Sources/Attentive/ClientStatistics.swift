import Foundation

/// Counters of an ``AttentiveClient`` since it was created.
public struct ClientStatistics: Sendable, Equatable, CustomStringConvertible {
    /// HTTP attempts started (first tries and retries).
    public var requestsSent = 0
    /// Responses received, by HTTP status.
    public var responsesByStatus: [Int: Int] = [:]
    /// 429 Too Many Requests responses.
    public var tooManyRequests = 0
    /// Retries scheduled (attempts after the first).
    public var retries = 0
    /// Attempts that timed out without a complete response.
    public var timeouts = 0
    /// Attempts that failed to connect or lost the connection.
    public var connectionErrors = 0
    /// Total time spent sleeping before retries, counted against the retry budget.
    public var retrySleep: Duration = .zero
    /// Requests that wanted a retry but found the retry time budget spent.
    public var retryBudgetExhaustions = 0

    /// Creates empty statistics.
    public init() {}

    /// One line, statuses in ascending order.
    public var description: String {
        let statuses = responsesByStatus.keys.sorted().map { "\($0)=\(responsesByStatus[$0] ?? 0)" }
        return "requests=\(requestsSent) statuses=[\(statuses.joined(separator: " "))] 429s=\(tooManyRequests) "
            + "retries=\(retries) timeouts=\(timeouts) connectionErrors=\(connectionErrors) "
            + "retrySleep=\(retrySleep) budgetExhaustions=\(retryBudgetExhaustions)"
    }
}
