import Foundation

/// What one response tells a ``RateLimiter``: its status and the rate-limit headers Attentive sends
/// (`x-ratelimit-limit`, `x-ratelimit-remaining`, and `Retry-After` if ever present).
public struct RateLimitFeedback: Sendable, Equatable {
    /// The HTTP status.
    public var status: Int
    /// `x-ratelimit-limit`: requests allowed per window.
    public var limit: Int?
    /// `x-ratelimit-remaining`: requests left in the current window.
    public var remaining: Int?
    /// `Retry-After`, as a duration.
    public var retryAfter: Duration?

    /// Creates feedback from already parsed values.
    public init(status: Int, limit: Int? = nil, remaining: Int? = nil, retryAfter: Duration? = nil) {
        self.status = status
        self.limit = limit
        self.remaining = remaining
        self.retryAfter = retryAfter
    }

    /// Reads the headers of a response (`headers` keys in any case). `now` resolves an HTTP-date
    /// `Retry-After`.
    public init(status: Int, headers: [String: String], now: Date = Date()) {
        var lowered: [String: String] = [:]
        for (name, value) in headers { lowered[name.lowercased()] = value }
        self.status = status
        limit = Self.integer(lowered["x-ratelimit-limit"])
        remaining = Self.integer(lowered["x-ratelimit-remaining"])
        retryAfter = lowered["retry-after"].flatMap { Self.retryAfter($0, now: now) }
    }

    private static func integer(_ text: String?) -> Int? {
        guard let text else { return nil }
        // Some gateways send "150, 150;w=1": take the first number.
        let first = text.split(whereSeparator: { $0 == "," || $0 == ";" }).first.map(String.init) ?? text
        if let value = Int(first.trimmingCharacters(in: .whitespaces)) { return value }
        if let value = Double(first.trimmingCharacters(in: .whitespaces)), value.isFinite {
            return Int(value.rounded(.down))
        }
        return nil
    }

    /// `Retry-After` in delta-seconds (fractions accepted) or as an HTTP-date.
    static func retryAfter(_ text: String, now: Date) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(trimmed) {
            return seconds.isFinite && seconds >= 0 ? Duration.clampedSeconds(seconds) : nil
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: trimmed) else { return nil }
        return Duration.clampedSeconds(date.timeIntervalSince(now))
    }
}
