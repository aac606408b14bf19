import Foundation

/// The job's exit statuses: what a scheduler acts on. A public contract (README "Exit statuses").
public struct ExitStatus: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// Done; nothing needs attention.
    public static let success = ExitStatus(rawValue: 0)
    /// Done, but needs attention: values failed and stay pending, or drift was found.
    public static let needsAttention = ExitStatus(rawValue: 1)
    /// The command line is wrong (EX_USAGE).
    public static let usage = ExitStatus(rawValue: 64)
    /// The input data is unusable as a whole (EX_DATAERR).
    public static let dataError = ExitStatus(rawValue: 65)
    /// A fault of referral-sync itself: a query of its own failed, a migration raised (EX_SOFTWARE). Report it,
    /// with the run id.
    public static let software = ExitStatus(rawValue: 70)
    /// PostgreSQL or Attentive cannot be reached (EX_UNAVAILABLE).
    public static let unavailable = ExitStatus(rawValue: 69)
    /// The reports could not be written: the disk is full or the folder unwritable (EX_IOERR). What was sent is
    /// recorded.
    public static let ioError = ExitStatus(rawValue: 74)
    /// Another run holds the lock; try again later (EX_TEMPFAIL).
    public static let locked = ExitStatus(rawValue: 75)
    /// Attentive refused the API key (401/403) (EX_NOPERM).
    public static let permissionDenied = ExitStatus(rawValue: 77)
    /// The configuration is wrong (EX_CONFIG).
    public static let configuration = ExitStatus(rawValue: 78)
    /// Stopped by SIGINT (128 + 2), after recording what was in flight.
    public static let interrupted = ExitStatus(rawValue: 130)
    /// Stopped by SIGTERM (128 + 15), after recording what was in flight.
    public static let terminated = ExitStatus(rawValue: 143)

    public var description: String { String(rawValue) }
}

/// An error that ends a command with a given exit status and a one-line instruction for the user.
public struct JobError: Error, Sendable, CustomStringConvertible {
    /// The exit status the process ends with.
    public var status: ExitStatus
    /// What went wrong, with the values involved (never a secret).
    public var message: String
    /// What to do about it, in one line.
    public var remedy: String

    public init(_ status: ExitStatus, _ message: String, remedy: String) {
        self.status = status
        self.message = message
        self.remedy = remedy
    }

    public var description: String { "\(message). \(remedy)" }
}
