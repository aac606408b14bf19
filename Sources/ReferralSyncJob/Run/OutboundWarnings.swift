/// The warnings of `warnings.csv` (`sql/queries/warnings.sql`, reports/README.md): a participant that counts and
/// is sent, with an identity left out or its link changed or too long on the way out. Each code has its line in
/// the summary's "Warnings" and, when a run has any, one warning line in the log.
struct OutboundWarning: Sendable {
    /// The stable code, as in `warnings.csv`'s `reason`.
    var code: String
    /// The summary's row, mirroring the events summary's wording.
    var summary: String
    /// The log line's message.
    var logMessage: String

    /// Every warning, in the order the summary lists them.
    static let all: [OutboundWarning] = [
        OutboundWarning(
            code: "email_not_usable", summary: "Participants whose email the rules refuse, sent by phone only",
            logMessage: "emails the rules refuse (RFC 5321's lengths, say) were left out: sent by phone only"),
        OutboundWarning(
            code: "phone_not_usable", summary: "Participants whose phone the rules refuse, sent by email only",
            logMessage: "phones the rules refuse were left out: sent by email only"),
        OutboundWarning(
            code: "link_too_long",
            summary: "Shareable links longer than the 1,024 characters Attentive shortens, sent as they are",
            logMessage: "shareable links longer than 1,024 characters were sent: Attentive does not shorten them"),
        OutboundWarning(
            code: "link_cleaned",
            summary: "Shareable links with bidirectional or control characters, removed before sending",
            logMessage: "shareable links had bidirectional or control characters, removed before sending"),
    ]

    /// Logs one warning line per code the run found, with its count and where the rows are.
    static func log(_ counts: RunCounts, to logger: Logger) {
        for warning in all {
            guard let rows = counts.warningsByReason[warning.code], rows > 0 else { continue }
            logger.warning(
                warning.logMessage, [("reason", warning.code), ("participants", String(rows)), ("see", "warnings.csv")])
        }
    }
}
