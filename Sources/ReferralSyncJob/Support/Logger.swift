public import Foundation
import Reports

/// One line per event on stderr, as logfmt (`ts=… level=… msg=… run_id=…`) or JSON.
///
/// `@unchecked Sendable`: every mutable field (`context`, `statusLine`) is read and written with `lock` held.
public final class Logger: @unchecked Sendable {
    /// How much to say.
    public enum Level: Int, Sendable, Comparable {
        case debug = 0, info, warning, error
        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }
        var name: String {
            switch self {
            case .debug: "debug"
            case .info: "info"
            case .warning: "warn"
            case .error: "error"
            }
        }
    }

    /// The line format.
    public enum Format: String, Sendable { case logfmt, json }

    private let lock = NSLock()
    private let minimumLevel: Level
    private let format: Format
    private let secrets: [String]
    private let sink: @Sendable (String) -> Void
    /// Fields added to every line (e.g. `run_id`); guarded by `lock`.
    private var context: [(String, String)] = []

    /// Sets the fields added to every later line (e.g. `run_id`).
    public func setContext(_ fields: [(String, String)]) {
        lock.lock()
        defer { lock.unlock() }
        context = fields
    }

    /// Makes a logger.
    /// - Parameters:
    ///   - secrets: Strings replaced by `***` wherever they would appear (the API key, the database password).
    ///   - sink: Where lines go; standard error by default.
    public init(
        level: Level = .info, format: Format = .logfmt, secrets: [String] = [],
        sink: @escaping @Sendable (String) -> Void = { line in FileHandle.standardError.write(Data(line.utf8)) }
    ) {
        minimumLevel = level
        self.format = format
        self.secrets = secrets.filter { !$0.isEmpty }
        self.sink = sink
    }

    public func debug(_ message: String, _ fields: [(String, String)] = []) { log(.debug, message, fields) }
    public func info(_ message: String, _ fields: [(String, String)] = []) { log(.info, message, fields) }
    public func warning(_ message: String, _ fields: [(String, String)] = []) { log(.warning, message, fields) }
    public func error(_ message: String, _ fields: [(String, String)] = []) { log(.error, message, fields) }

    /// Whether lines at `level` are written.
    public func isEnabled(_ level: Level) -> Bool { level >= minimumLevel }

    public func log(_ level: Level, _ message: String, _ fields: [(String, String)]) {
        guard level >= minimumLevel else { return }
        lock.lock()
        let context = self.context
        lock.unlock()
        let all = [("ts", Self.timestamp()), ("level", level.name), ("msg", message)] + context + fields
        let line: String
        switch format {
        case .logfmt:
            line = all.map { "\($0.0)=\(Self.logfmtValue(redact($0.1)))" }.joined(separator: " ")
        case .json:
            line =
                "{" + all.map { "\(Self.jsonString($0.0)):\(Self.jsonString(redact($0.1)))" }.joined(separator: ",")
                + "}"
        }
        lock.lock()
        defer { lock.unlock() }
        if let status = statusLine {
            // A log line replaces the progress line, which is drawn again below it.
            sink(Self.clearLine + line + "\n" + status)
        } else {
            sink(line + "\n")
        }
    }

    /// The terminal's progress line while one is shown (see ``showStatus(_:)``).
    private var statusLine: String?
    static let clearLine = "\r\u{1B}[2K"

    /// Draws `text` as the single, updating progress line of a terminal: it replaces the previous one, and log
    /// lines written meanwhile appear above it. Only for a terminal (the caller checks).
    public func showStatus(_ text: String) {
        let redacted = redact(text)
        lock.lock()
        defer { lock.unlock() }
        statusLine = Self.clearLine + redacted
        sink(Self.clearLine + redacted)
    }

    /// Leaves the progress line on screen as `text`, ends it with a line break, and stops redrawing it.
    public func endStatus(_ text: String) {
        let redacted = redact(text)
        lock.lock()
        defer { lock.unlock() }
        statusLine = nil
        sink(Self.clearLine + redacted + "\n")
    }

    /// `text` with every secret replaced by `***`.
    public func redact(_ text: String) -> String {
        secrets.reduce(text) { $0.replacingOccurrences(of: $1, with: "***") }
    }

    static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }

    /// A logfmt value: bare when it is a plain word, otherwise quoted with `\\`, `\"`, `\n`, `\r` and `\t`
    /// escaped and every other hidden character (bidirectional or control, ``OutboundText``) as `\u202E`, so one
    /// event is always one line and shows what the data holds.
    static func logfmtValue(_ value: String) -> String {
        let needsQuotes =
            value.isEmpty
            || value.unicodeScalars.contains {
                $0 == " " || $0 == "=" || $0 == "\"" || $0 == "\\" || $0 == "\t" || $0 == "\n" || $0 == "\r"
                    || OutboundText.isHidden($0)
            }
        guard needsQuotes else { return value }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if OutboundText.isHidden(scalar) {
                    let hex = String(scalar.value, radix: 16, uppercase: true)
                    out += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    static func jsonString(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let control where control.value < 0x20: out += String(format: "\\u%04x", control.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
