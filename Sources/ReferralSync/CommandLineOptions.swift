/// The hand-written argument parser: a table of options, each with its environment variable, parsed in one
/// place. Values from the command line win over the environment.
public struct OptionSpec: Sendable {
    /// `--name`.
    public var name: String
    /// The environment variable that can set it, if any.
    public var environment: String?
    /// Whether it takes a value (`--name VALUE` or `--name=VALUE`) or is a flag.
    public var takesValue: Bool
    /// Shown by `--help`.
    public var help: String
    public init(_ name: String, environment: String? = nil, takesValue: Bool = true, help: String) {
        self.name = name
        self.environment = environment
        self.takesValue = takesValue
        self.help = help
    }
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
}

/// Parsed options: values by option name, with where each came from.
public struct ParsedOptions: Sendable {
    var values: [String: (value: String, source: SettingSource)] = [:]
    var repeated: [String: [String]] = [:]

    /// The value of `--name`, from the command line or its environment variable.
    public func value(_ name: String) -> String? { values[name]?.value }
    /// Where `--name` came from.
    public func source(_ name: String) -> SettingSource { values[name]?.source ?? .commandLine(name) }
    /// Whether a flag is set (`--dry-run`, or its variable set to 1/true/yes).
    public func flag(_ name: String) -> Bool {
        guard let value = values[name]?.value.lowercased() else { return false }
        return ["", "1", "true", "yes", "on"].contains(value)
    }
}

/// A command line that cannot be understood: exit 64 with this message.
public struct UsageError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Parses `arguments` (after the command name) against `specs`, reading unset options from `environment`.
/// - Throws: `UsageError` for an unknown option, a missing value or a stray argument.
public func parseOptions(
    _ arguments: [String], specs: [OptionSpec], environment: [String: String]
) throws -> ParsedOptions {
    var parsed = ParsedOptions()
    let byName = Dictionary(specs.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    var index = 0
    while index < arguments.count {
        let argument = arguments[index]
        index += 1
        guard argument.hasPrefix("--"), argument.count > 2 else {
            throw UsageError("unexpected argument '\(argument)': options start with --; see --help")
        }
        var name = String(argument.dropFirst(2))
        var inlineValue: String?
        if let equals = name.firstIndex(of: "=") {
            inlineValue = String(name[name.index(after: equals)...])
            name = String(name[..<equals])
        }
        guard let spec = byName[name] else {
            throw UsageError("unknown option --\(name); see --help for the options of this command")
        }
        if spec.takesValue {
            let value: String
            if let inlineValue {
                value = inlineValue
            } else {
                guard index < arguments.count else { throw UsageError("--\(name) needs a value; see --help") }
                value = arguments[index]
                index += 1
            }
            parsed.values[name] = (value, .commandLine(name))
            parsed.repeated[name, default: []].append(value)
        } else {
            if let inlineValue {
                parsed.values[name] = (inlineValue, .commandLine(name))
            } else {
                parsed.values[name] = ("true", .commandLine(name))
            }
        }
    }
    for spec in specs where parsed.values[spec.name] == nil {
        if let variable = spec.environment, let value = environment[variable], !value.isEmpty {
            parsed.values[spec.name] = (value, .environment(variable))
        }
    }
    return parsed
}

/// `--help` text for a command.
public func helpText(command: String, summary: String, specs: [OptionSpec]) -> String {
    var lines = ["usage: referral-sync \(command) [options]", "", summary, "", "options:"]
    for spec in specs {
        var left = "  --\(spec.name)" + (spec.takesValue ? " VALUE" : "")
        if left.count < 28 { left += String(repeating: " ", count: 28 - left.count) } else { left += "  " }
        var line = left + spec.help
        if let variable = spec.environment { line += " [env: \(variable)]" }
        lines.append(line)
    }
    return lines.joined(separator: "\n") + "\n"
}
