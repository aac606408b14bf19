import Foundation

/// An error from libpq or the PostgreSQL server, with the server's own fields so a caller can both
/// switch on it and show the server's words to a user.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        /// The server could not be reached, or refused the connection.
        public static let connectionFailed = Code(name: "connectionFailed")
        /// The server asked for a password and refused the connection: a wrong or missing password (libpq's
        /// `PQconnectionNeedsPassword` / `PQconnectionUsedPassword`, whatever language the server speaks).
        public static let authenticationFailed = Code(name: "authenticationFailed")
        /// libpq cannot parse the connection string (`PQconninfoParse`); nothing was connected.
        public static let invalidConnectionString = Code(name: "invalidConnectionString")
        /// A statement failed on the server (see ``PostgresError/sqlState``).
        public static let statementFailed = Code(name: "statementFailed")
        /// A COPY stream failed or was cut off.
        public static let copyFailed = Code(name: "copyFailed")
        /// The connection was lost while in use.
        public static let connectionLost = Code(name: "connectionLost")
        /// The server answered in a way this client did not expect.
        public static let unexpectedResponse = Code(name: "unexpectedResponse")
        /// A reader asked for a column its query's result does not have (``PostgresColumns/index(of:)``).
        public static let missingColumn = Code(name: "missingColumn")
        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// The primary message (the server's, or libpq's), with secrets removed.
    public var message: String
    /// The five-character SQLSTATE, when the server sent one (e.g. `28P01` for a wrong password).
    public var sqlState: String?
    /// The server's DETAIL field.
    public var detail: String?
    /// The server's HINT field.
    public var hint: String?

    /// Makes an error.
    public init(code: Code, message: String, sqlState: String? = nil, detail: String? = nil, hint: String? = nil) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
    }

    public var description: String {
        var text = message.trimmingTrailingWhitespace()
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        if let detail, !detail.isEmpty { text += "; detail: \(detail)" }
        if let hint, !hint.isEmpty { text += "; hint: \(hint)" }
        return text
    }

    /// Whether this error means the server is unreachable or the connection broke, rather than a statement failing.
    public var isConnectionProblem: Bool {
        if code == .connectionFailed || code == .connectionLost { return true }  // not .authenticationFailed
        // Class 08: connection exception; 57P0x: admin shutdown, crash shutdown, cannot connect now.
        if let sqlState, sqlState.hasPrefix("08") || sqlState.hasPrefix("57P") { return true }
        return false
    }

    /// Whether the server refused the credentials: it asked for a password and refused the connection, or a
    /// statement failed with SQLSTATE class 28 (invalid authorization). Never decided by message text.
    public var isAuthenticationFailure: Bool {
        code == .authenticationFailed || sqlState?.hasPrefix("28") == true
    }

    /// A copy of this error with every occurrence of each secret replaced by `***`.
    public func redacting(_ secrets: [String]) -> PostgresError {
        var copy = self
        for secret in secrets where !secret.isEmpty {
            copy.message = copy.message.replacingOccurrences(of: secret, with: "***")
            copy.detail = copy.detail?.replacingOccurrences(of: secret, with: "***")
            copy.hint = copy.hint?.replacingOccurrences(of: secret, with: "***")
        }
        return copy
    }
}

extension String {
    func trimmingTrailingWhitespace() -> String {
        var text = Substring(self)
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return String(text)
    }
}
