import Foundation
public import Options
import Postgres
import ReferralStore
import Reports

/// The one place an error becomes an exit status and a remedy (README "Exit statuses").
extension JobError {
    /// Maps a database, report or other error to an exit status and a one-line remedy; a `JobError` stays as it
    /// is. Database errors are told apart by libpq's status and the server's SQLSTATE, never by message text.
    public init(classifying error: any Error) {
        switch error {
        case let error as JobError:
            self = error
        case let error as PostgresError:
            self = Self.classify(error)
        case let error as SchemaError:
            self.init(.configuration, "\(error)", remedy: Self.remedy(for: error.kind))
        case let error as StateMismatch:
            self.init(.locked, "\(error)", remedy: "Another run changed the kept recompute; run again (exit 75).")
        case let error as ReportError:
            self.init(
                .ioError, "the reports could not be written: \(error)",
                remedy: "Free space on --reports-dir's disk or make it writable; what was sent is recorded, and the "
                    + "next run writes its reports again.")
        default:
            self = Self.internalFault("\(error)")
        }
    }

    /// The one rule for a bad setting: from a variable it is a configuration error (78), from the command line a
    /// usage error (64).
    public init(badSetting source: SettingSource, _ message: String, remedy: String) {
        self.init(source.isEnvironment ? .configuration : .usage, message, remedy: remedy)
    }

    /// A bad option value, by the rule of ``init(badSetting:_:remedy:)``: the message names the option or
    /// variable and what is expected.
    public init(_ invalid: InvalidOptionValue) {
        self.init(
            badSetting: invalid.source, "\(invalid.source.name) is '\(invalid.given)'",
            remedy: "Expected \(invalid.expected).")
    }

    /// A fault of referral-sync itself (exit 70): nothing the input data or the configuration can fix.
    static func internalFault(_ message: String) -> JobError {
        JobError(
            .software, "referral-sync failed: \(message)",
            remedy: "This is a fault of referral-sync: report it with the run id (`referral-sync history`) and the "
                + "log; the next run resumes safely.")
    }

    private static func remedy(for kind: SchemaError.Kind) -> String {
        switch kind {
        case .notMigrated, .definitionsOutdated: "Run `referral-sync migrate` with this version."
        case .newerThanTool: "Use the newest referral-sync."
        case .notUTF8: "Create the database with ENCODING 'UTF8' (names and emails are Unicode)."
        case .statementRefused:
            "The database's set-up differs from what referral-sync supports (an object of the same name that is not "
                + "referral-sync's, an extension or setting such as Citus's, the role's rights): fix it and run "
                + "`referral-sync migrate` again; if the database is as the README describes, report it with the file "
                + "named."
        }
    }

    private static func classify(_ error: PostgresError) -> JobError {
        if error.isAuthenticationFailure {
            return JobError(
                .configuration, "PostgreSQL refused the credentials: \(error.message)",
                remedy:
                    "Check the user and password in DATABASE_URL or PGUSER/PGPASSWORD, and that the database it names exists."
            )
        }
        if error.code == .invalidConnectionString {
            return JobError(
                .configuration, "DATABASE_URL cannot be used: \(error.message)",
                remedy: "Set DATABASE_URL to a libpq conninfo or a postgresql://user@host:port/dbname URI.")
        }
        if error.isConnectionProblem {
            return JobError(
                .unavailable, "PostgreSQL is unreachable: \(error.message)",
                remedy: "Check that the server is up and DATABASE_URL points at it; the next run resumes safely.")
        }
        if let unusable = unusableInput(error) { return unusable }
        switch error.sqlState ?? "" {
        case let state where state.hasPrefix("22"):
            // A data exception: a value of the input tables the rules cannot compute with.
            return JobError(
                .dataError, "a database statement failed on the input data: \(error)",
                remedy: "Check the input tables against the README (\"Input tables\").")
        case "57014":
            // Cancelled by the server: a timeout the job's sessions did not turn off, or pg_cancel_backend.
            return JobError(
                .locked, "a statement was cancelled by the server: \(error.message)",
                remedy: "Nothing is lost; run again. If it recurs, look for a timeout set on the database or an "
                    + "operator cancelling the job's statements.")
        case "25006":
            return JobError(
                .configuration, "the database is read-only: \(error.message)",
                remedy: "Point DATABASE_URL at the primary server, not a standby or a read-only replica.")
        default:
            return internalFault("a database statement of referral-sync's own failed: \(error)")
        }
    }

    /// The error for input tables that cannot be read as a whole: a table or column the job reads is missing, or
    /// the job's role may not read it (exit 65). A missing table or column of referral-sync's own (its name starts
    /// `referral_sync_`) is no fault of the input: the migrations are not all there, or the server runs the
    /// statement where they are not (a Citus worker's `search_path`), exit 78. `nil` for any other database error.
    static func unusableInput(_ error: PostgresError) -> JobError? {
        let namesOurOwn = error.message.contains("\"referral_sync_")
        switch error.sqlState ?? "" {
        case "42P01" where namesOurOwn, "42703" where namesOurOwn:
            return JobError(
                .configuration, "a table or column of referral-sync's own is missing: \(error.message)",
                remedy: "Run `referral-sync migrate` for this database and schema. If it reports every migration "
                    + "applied, the server runs the statement where the store's tables are not visible (README "
                    + "\"Several workers and a distributed PostgreSQL\").")
        case "42P01", "42703":
            return JobError(
                .dataError, "the input tables cannot be read: \(error.message)",
                remedy: "Restore the input tables and columns the README lists (\"Input tables\"), then run again.")
        case "42501":
            return JobError(
                .dataError, "the input tables cannot be read: \(error.message)",
                remedy:
                    "GRANT SELECT on customers, referrals, referral_orders and referral_rejections to the job's role.")
        default:
            return nil
        }
    }

    /// The run was asked to stop by SIGINT or SIGTERM: exit 130 or 143. The words fit every command that sends or
    /// reads (README "Exit statuses": nothing is lost; the next run sends the rest).
    static func stopped(by signal: Int32) -> JobError {
        JobError(
            signal == SIGINT ? .interrupted : .terminated,
            "stopped by signal \(signal) after recording the requests in flight",
            remedy: "Nothing is lost; the next run does the rest.")
    }

    /// The run's lock was lost while it worked (``LockWatch``): it stopped sending, recorded what was in flight,
    /// and exits 75 so the scheduler tries again; the run that took the lock goes on alone.
    static func lockLost(_ why: String) -> JobError {
        JobError(
            .locked, "the run lost its lock (\(why)) and stopped sending",
            remedy: "Nothing is lost: what was in flight is recorded as in flight, and the next run (or the one that "
                + "took the lock) sends the rest.")
    }

    /// Attentive answered 401 or 403: exit 77, no further request.
    static func unauthorized(_ message: String) -> JobError {
        JobError(
            .permissionDenied, message,
            remedy: "Check ATTENTIVE_API_KEY: it must belong to a custom app with Custom Attributes write access.")
    }
}
