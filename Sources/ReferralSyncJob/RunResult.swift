public import ReferralModel
public import ReferralStore

/// How a command ended: its exit status, its report folder and what it counted.
public struct RunResult: Sendable {
    public var status: ExitStatus
    public var runKey: String
    /// The published report folder, when one was written.
    public var reportFolder: String?
    public var counts: RunCounts
    /// One line for the user: what happened, and what to do if anything.
    public var message: String
    /// Seconds per stage, in order (for the metrics file).
    public var stageSeconds: [(String, Double)] = []
    /// Values still pending after the run, when they could be counted.
    public var pendingValues: Int? = nil
    /// How the recompute was brought up to date, when it was.
    public var refresh: StateRefresh? = nil
    /// Attribute values that differ in Attentive (`drift` only).
    public var driftRows: Int? = nil
    /// The store (schema) the run worked in, when known (README "Several stores").
    public var store: String? = nil
    /// Events by outcome (`events` only).
    public var eventCounts: [EventOutcome: Int]? = nil
}
