/// How `referral-sync revenue` groups its figures (`--by`): calendar periods of the report's time zone.
public enum PeriodUnit: String, CaseIterable, Sendable {
    case day, week, month, quarter, year

    /// The `date_trunc` field of PostgreSQL for this unit (`week`: ISO weeks, Monday first).
    public var field: String { rawValue }

    /// The length of one period as a PostgreSQL interval, added to local timestamps (never to instants, so a
    /// daylight-saving day is one period of 23 or 25 hours).
    public var step: String {
        switch self {
        case .day: "1 day"
        case .week: "7 days"
        case .month: "1 month"
        case .quarter: "3 months"
        case .year: "1 year"
        }
    }

    /// The `to_char` format of a period's label: `2025-11-03`, `2025-W45`, `2025-11`, `2025-Q4`, `2025`.
    public var labelFormat: String {
        switch self {
        case .day: "YYYY-MM-DD"
        case .week: "IYYY-\"W\"IW"
        case .month: "YYYY-MM"
        case .quarter: "YYYY-\"Q\"Q"
        case .year: "YYYY"
        }
    }
}

/// When a qualifying order counts in `referral-sync revenue` (`--basis`, README "Finance").
public enum RevenueBasis: String, CaseIterable, Sendable {
    /// In the period of its redemption, with everything known at as-of: a later rejection restates the past.
    case redemption
    /// In the period of its redemption, and a rejection dated after it reverses it in the rejection's period.
    case booked
}

/// A calendar day without a time zone, `YYYY-MM-DD`.
public struct CalendarDay: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    /// A valid day of the proleptic Gregorian calendar, years 1 to 9999; `nil` otherwise.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
            (1...Self.days(inMonth: month, of: year)).contains(day)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    static func days(inMonth month: Int, of year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// The first day `months` months after this day's month (this day must be the first of a month, or only
    /// its month counts).
    func firstOfMonth(adding months: Int) -> CalendarDay? {
        let index = year * 12 + (month - 1) + months
        return CalendarDay(year: index / 12, month: index % 12 + 1, day: 1)
    }

    /// The next day.
    var next: CalendarDay? {
        if let same = CalendarDay(year: year, month: month, day: day + 1) { return same }
        return firstOfMonth(adding: 1)
    }

    public var description: String {
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    public static func < (left: CalendarDay, right: CalendarDay) -> Bool {
        (left.year, left.month, left.day) < (right.year, right.month, right.day)
    }
}

/// A `--from` or `--to` value: a day (`2025-01-01`), a month (`2025-11`), a quarter (`2025-Q4`) or a year
/// (`2025`), as the days it covers: from ``first`` up to, not including, ``end``.
public struct CalendarSpan: Hashable, Sendable {
    /// The first day of the span.
    public var first: CalendarDay
    /// The day after the span's last day.
    public var end: CalendarDay
    /// The text it was read from.
    public var text: String

    /// Reads a span; `nil` when the text is none of the four forms or names no real day.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard let yearText = parts.first, yearText.count == 4, let year = Int(yearText), yearText.allSatisfy(\.isNumber)
        else { return nil }
        func number(_ part: String) -> Int? { part.count == 2 && part.allSatisfy(\.isNumber) ? Int(part) : nil }
        let first: CalendarDay?
        let end: CalendarDay?
        switch parts.count {
        case 1:
            first = CalendarDay(year: year, month: 1, day: 1)
            end = first?.firstOfMonth(adding: 12)
        case 2 where parts[1].count == 2 && parts[1].first == "Q":
            guard let quarter = Int(parts[1].dropFirst()), (1...4).contains(quarter) else { return nil }
            first = CalendarDay(year: year, month: quarter * 3 - 2, day: 1)
            end = first?.firstOfMonth(adding: 3)
        case 2:
            first = number(parts[1]).flatMap { CalendarDay(year: year, month: $0, day: 1) }
            end = first?.firstOfMonth(adding: 1)
        case 3:
            guard let month = number(parts[1]), let day = number(parts[2]) else { return nil }
            first = CalendarDay(year: year, month: month, day: day)
            end = first?.next
        default:
            return nil
        }
        guard let first, let end else { return nil }
        self.first = first
        self.end = end
        self.text = text
    }
}
