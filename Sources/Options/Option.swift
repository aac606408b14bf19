/// One command-line option, declared once: its name, the environment variable that can set it, its default, how
/// its text is read, and its help. The help line, the parser, the default and the error message for a bad value
/// all come from this one declaration.
public struct Option<Value: Sendable>: Sendable, OptionDeclaration {
    public let name: String
    public let environment: String?
    public let takesValue: Bool
    /// What the option does, without its default (``helpLine`` adds it).
    public let summary: String
    /// The value when neither the command line nor the variable sets it.
    public let defaultValue: Value
    /// The default as help shows it (`150`, `./reports`); `nil` shows none.
    public let defaultText: String?
    /// What a valid value looks like, for the error message: "a whole number from 1 to 1024".
    public let expected: String
    let read: @Sendable (String) -> Value?

    /// Declares an option that takes a value.
    /// - Parameters:
    ///   - name: The option without its dashes: `max-rps`.
    ///   - environment: The variable that sets it when the command line does not.
    ///   - defaultValue: Used when neither sets it.
    ///   - defaultText: The default as help shows it; `nil` derives it from `defaultValue`.
    ///   - summary: What it does, for help.
    ///   - expected: What a valid value looks like, for the error message.
    ///   - read: The value of a text, or `nil` when the text is not a valid value.
    public init(
        _ name: String, environment: String? = nil, default defaultValue: Value, defaultText: String? = nil,
        summary: String, expected: String, read: @escaping @Sendable (String) -> Value?
    ) {
        self.name = name
        self.environment = environment
        takesValue = true
        self.summary = summary
        self.defaultValue = defaultValue
        self.defaultText = defaultText ?? String(describing: defaultValue)
        self.expected = expected
        self.read = read
    }

    public var helpLine: String {
        defaultText.map { "\(summary) (default: \($0))" } ?? summary
    }

    public func accepts(_ text: String) -> Bool { read(text) != nil }
}

extension Option {
    /// Declares an option without a default: its value is `nil` when neither the command line nor the variable
    /// sets it.
    /// - Parameter defaultText: What happens when it is not set, for help ("now", "PG* variables"); `nil` shows
    ///   nothing.
    public init<Wrapped: Sendable>(
        _ name: String, environment: String? = nil, unsetMeans defaultText: String? = nil, summary: String,
        expected: String, read: @escaping @Sendable (String) -> Wrapped?
    ) where Value == Wrapped? {
        self.name = name
        self.environment = environment
        takesValue = true
        self.summary = summary
        defaultValue = nil
        self.defaultText = defaultText
        self.expected = expected
        self.read = { text in read(text).map { .some($0) } }
    }
}

extension Option where Value == Bool {
    /// Declares a flag: set by `--name`; its variable (or `--name=WORD`) says yes or no in so many words:
    /// 1, true, yes or on, or 0, false, no or off, in any case. Any other text is refused, never read as off: an
    /// operator who typed `REFERRAL_SYNC_DRY_RUN=y` asked for something, and guessing what is worse than asking.
    public init(flag name: String, environment: String? = nil, summary: String) {
        self.name = name
        self.environment = environment
        takesValue = false
        self.summary = summary
        defaultValue = false
        defaultText = nil
        expected = "1, true, yes or on, or 0, false, no or off"
        read = { text in
            switch text.lowercased() {
            case "1", "true", "yes", "on": true
            case "0", "false", "no", "off": false
            default: nil
            }
        }
    }
}

extension Option where Value == String? {
    /// Declares an option whose value is any text, `nil` when unset.
    public init(
        text name: String, environment: String? = nil, unsetMeans defaultText: String? = nil, summary: String
    ) {
        self.init(
            name, environment: environment, unsetMeans: defaultText, summary: summary, expected: "a text",
            read: { $0 })
    }
}

/// What the parser and `--help` need to know of an option, whatever its value's type.
public protocol OptionDeclaration: Sendable {
    /// `max-rps` for `--max-rps`.
    var name: String { get }
    /// The environment variable that sets it when the command line does not.
    var environment: String? { get }
    /// Whether it takes a value (`--name VALUE` or `--name=VALUE`) or is a flag.
    var takesValue: Bool { get }
    /// What `--help` says of it, with its default.
    var helpLine: String { get }
    /// What a valid value looks like, for the error message.
    var expected: String { get }
    /// Whether `text` is a valid value.
    func accepts(_ text: String) -> Bool
}

/// Where a setting came from: error messages name the option or the variable the user has to fix.
public enum SettingSource: Sendable, Equatable {
    case commandLine(String)
    case environment(String)

    /// `--max-rps` or `REFERRAL_SYNC_MAX_RPS`.
    public var name: String {
        switch self {
        case .commandLine(let option): "--" + option
        case .environment(let variable): variable
        }
    }

    /// Whether the setting came from the environment (a configuration error) rather than the command line (a
    /// usage error).
    public var isEnvironment: Bool {
        if case .environment = self { return true }
        return false
    }
}

/// A command line that cannot be understood: an unknown option, a missing value, a stray argument.
public struct UsageError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// An option whose text is not a valid value: names where it came from, what was given and what is expected.
public struct InvalidOptionValue: Error, Sendable, Equatable, CustomStringConvertible {
    /// The option or variable the user has to fix.
    public var source: SettingSource
    /// The text given.
    public var given: String
    /// What a valid value looks like.
    public var expected: String

    public init(source: SettingSource, given: String, expected: String) {
        self.source = source
        self.given = given
        self.expected = expected
    }

    public var description: String { "\(source.name) is '\(given)'. Expected \(expected)." }
}
