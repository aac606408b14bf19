/// How a command ended, for its caller: its exit status and message, its report folder and what it counted. The
/// session makes it, once, at the command's end (``CommandEnd``); the run history, the closing log line and the
/// metrics file say the rest.
public struct RunResult: Sendable {
    public var status: ExitStatus
    public var runKey: String
    /// The published report folder, when one was written.
    public var reportFolder: String?
    /// What the command counted: the participants it read (every command) and, for `run`, the attribute values
    /// by outcome, the rejected rows and the warnings.
    public var counts: RunCounts
    /// One line for the user: what happened, and what to do if anything.
    public var message: String
    /// What is still pending after the command, when it was counted: attribute values (`run`), events (`events`).
    public var pendingValues: Int? = nil
}
