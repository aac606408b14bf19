/// An instant in UTC with microsecond precision, as PostgreSQL's `timestamptz` holds it. Integer-based, so
/// parsing and printing never drift through floating point.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Microseconds since 1970-01-01T00:00:00Z.
    public let microsecondsSinceEpoch: Int64

    public init(microsecondsSinceEpoch: Int64) { self.microsecondsSinceEpoch = microsecondsSinceEpoch }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.microsecondsSinceEpoch < rhs.microsecondsSinceEpoch
    }

    /// Parses ISO 8601 / RFC 3339: `2024-11-08`, `2024-11-08T06:10:36Z`, `2024-11-08T06:10:36.989+02:00`,
    /// `2024-11-08 06:10:36.989Z`. A date alone means midnight UTC; a time without an offset is refused, because
    /// the job would otherwise guess a time zone.
    /// - Returns: `nil` when `text` is not one of those forms or names an impossible date or time.
    public init?(iso8601 text: String) {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ digits: Int) -> Int? {
            guard index + digits <= bytes.count else { return nil }
            var value = 0
            for offset in 0..<digits {
                let byte = bytes[index + offset]
                guard byte >= 48 && byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            index += digits
            return value
        }
        func expect(_ character: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == character else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect(45), let month = number(2), expect(45), let day = number(2) else {
            return nil
        }
        guard (1...12).contains(month), day >= 1, day <= Timestamp.daysIn(month: month, year: year) else { return nil }
        var seconds = 0
        var micros: Int64 = 0
        var offsetSeconds = 0
        if index < bytes.count {
            guard expect(84) || expect(32) || expect(116) else { return nil }  // 'T', ' ', 't'
            guard let hour = number(2), expect(58), let minute = number(2), expect(58), let second = number(2) else {
                return nil
            }
            guard hour < 24, minute < 60, second < 60 else { return nil }
            seconds = hour * 3600 + minute * 60 + second
            if expect(46) {  // '.'
                var digits = 0
                var fraction: Int64 = 0
                while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                    if digits < 6 { fraction = fraction * 10 + Int64(bytes[index] - 48) }
                    digits += 1
                    index += 1
                }
                guard digits > 0 else { return nil }
                if digits < 6 { for _ in digits..<6 { fraction *= 10 } }
                micros = fraction
            }
            if expect(90) || expect(122) {  // 'Z', 'z'
                offsetSeconds = 0
            } else if index < bytes.count, bytes[index] == 43 || bytes[index] == 45 {  // '+', '-'
                let sign = bytes[index] == 45 ? -1 : 1
                index += 1
                guard let offsetHours = number(2) else { return nil }
                _ = expect(58)
                let offsetMinutes = number(2) ?? 0
                guard offsetHours < 24, offsetMinutes < 60 else { return nil }
                offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
            } else {
                return nil
            }
        }
        guard index == bytes.count else { return nil }
        let days = Timestamp.daysFromCivil(year: year, month: month, day: day)
        let totalSeconds = Int64(days) * 86_400 + Int64(seconds) - Int64(offsetSeconds)
        microsecondsSinceEpoch = totalSeconds * 1_000_000 + micros
    }

    /// The current time.
    /// This instant moved by `seconds` (negative: earlier), to the microsecond.
    public func adding(seconds: Double) -> Timestamp {
        Timestamp(microsecondsSinceEpoch: microsecondsSinceEpoch + Int64((seconds * 1_000_000).rounded()))
    }

    public static func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(microsecondsSinceEpoch: Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1000)
    }

    /// `2024-11-08T06:10:36.989123Z`: full precision, for PostgreSQL parameters and logs.
    public var description: String { format(fractionDigits: 6) }

    /// `2024-11-08T06:10:36.989Z`, the attribute format.
    public var millisecondString: String { format(fractionDigits: 3) }

    /// `20241108T061036Z`, for run ids and file names.
    public var compactString: String {
        let (year, month, day, hour, minute, second, _) = components
        return pad(year, 4) + pad(month, 2) + pad(day, 2) + "T" + pad(hour, 2) + pad(minute, 2) + pad(second, 2) + "Z"
    }

    private func format(fractionDigits: Int) -> String {
        let (year, month, day, hour, minute, second, micros) = components
        var text =
            pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T" + pad(hour, 2) + ":" + pad(minute, 2)
            + ":" + pad(second, 2)
        if fractionDigits > 0 {
            var divisor = 1
            for _ in fractionDigits..<6 { divisor *= 10 }
            text += "." + pad(micros / divisor, fractionDigits)
        }
        return text + "Z"
    }

    private var components: (Int, Int, Int, Int, Int, Int, Int) {
        let micros = microsecondsSinceEpoch
        var seconds = micros / 1_000_000
        var fraction = micros % 1_000_000
        if fraction < 0 {
            fraction += 1_000_000
            seconds -= 1
        }
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let (year, month, day) = Timestamp.civilFromDays(Int(days))
        let second = Int(secondOfDay)
        return (year, month, day, second / 3600, second / 60 % 60, second % 60, Int(fraction))
    }

    private func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // Howard Hinnant's days_from_civil / civil_from_days.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
