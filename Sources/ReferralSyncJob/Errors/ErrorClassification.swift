import Foundation
import Postgres
import Reports

/// The one place an error becomes an exit status and a remedy (README "Exit statuses").
extension JobError {
    /// Maps a database, report or other error to an exit status and a one-line remedy; a `JobError` stays as it
    /// is. Database errors are told apart by libpq's status and the server's SQLSTATE, never by message text.
    public init(classifying error: any Error) {
        if let error = error as? JobError {
            self = error
        } else if let error = error as? PostgresError {
            self = Self.classify(error)
        } else if let error = error as? ReportError {
            self.init(.configuration, "\(error)", remedy: "Check --reports-dir: it must be a writable folder.")
        } else {
            self.init(.dataError, "\(error)", remedy: "See the log above.")
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
        return JobError(
            .dataError, "a database statement failed: \(error)",
            remedy: "Check the input tables against the README; run `referral-sync migrate` if the schema is old.")
    }

    /// The error for input tables that cannot be read as a whole: a table or column the job reads is missing, or
    /// the job's role may not read it (exit 65). `nil` for any other database error.
    static func unusableInput(_ error: PostgresError) -> JobError? {
        switch error.sqlState ?? "" {
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

    /// Attentive answered 401 or 403: exit 77, no further request.
    static func unauthorized(_ message: String) -> JobError {
        JobError(
            .permissionDenied, message,
            remedy: "Check ATTENTIVE_API_KEY: it must belong to a custom app with Custom Attributes write access.")
    }
}
