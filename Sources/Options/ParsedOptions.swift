/// Parsed options: the text of each option set on the command line or by its variable, with where it came from.
/// Values from the command line win over the environment.
public struct ParsedOptions: Sendable {
    var texts: [String: (text: String, source: SettingSource)] = [:]
    /// Every value of an option given more than once, in order (for repeatable options).
    var repeated: [String: [String]] = [:]

    /// The value of `option`: read from its text when set, its default otherwise.
    /// - Throws: `InvalidOptionValue` naming the option or variable when the text is not a valid value.
    public func value<Value>(_ option: Option<Value>) throws(InvalidOptionValue) -> Value {
        guard let (text, source) = texts[option.name] else { return option.defaultValue }
        guard let value = option.read(text) else {
            throw InvalidOptionValue(source: source, given: text, expected: option.expected)
        }
        return value
    }

    /// Whether `option` was set, on the command line or by its variable.
    public func isSet(_ option: some OptionDeclaration) -> Bool { texts[option.name] != nil }

    /// Where `option` came from (the command line when it was not set).
    public func source(_ option: some OptionDeclaration) -> SettingSource {
        texts[option.name]?.source ?? .commandLine(option.name)
    }

    /// Every value of a repeatable option, in the order given on the command line (or its variable's one value).
    public func values<Value>(_ option: Option<Value>) throws(InvalidOptionValue) -> [Value] {
        guard let (_, source) = texts[option.name] else { return [] }
        let given = repeated[option.name] ?? texts[option.name].map { [$0.text] } ?? []
        var values: [Value] = []
        for text in given {
            guard let value = option.read(text) else {
                throw InvalidOptionValue(source: source, given: text, expected: option.expected)
            }
            values.append(value)
        }
        return values
    }

    /// Parses `arguments` (after the command name) against `options`, reading unset options from `environment`,
    /// and checks every value given before anything uses one: a mistyped variable stops the command before it
    /// connects or sends, whether or not this command reads it early.
    /// - Throws: `UsageError` for an unknown option, a missing value or a stray argument; `InvalidOptionValue`
    ///   naming the option or variable for a value its option does not accept.
    public init(
        _ arguments: [String], options: [any OptionDeclaration], environment: [String: String]
    ) throws {
        var byName: [String: any OptionDeclaration] = [:]
        for option in options where byName[option.name] == nil { byName[option.name] = option }
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
            guard let option = byName[name] else {
                throw UsageError("unknown option --\(name); see --help for the options of this command")
            }
            let text: String
            if !option.takesValue {
                text = inlineValue ?? "true"
            } else if let inlineValue {
                text = inlineValue
            } else {
                guard index < arguments.count else { throw UsageError("--\(name) needs a value; see --help") }
                text = arguments[index]
                index += 1
            }
            texts[name] = (text, .commandLine(name))
            repeated[name, default: []].append(text)
        }
        for option in options where texts[option.name] == nil {
            if let variable = option.environment, let text = environment[variable], !text.isEmpty {
                texts[option.name] = (text, .environment(variable))
            }
        }
        for option in options {
            guard let (text, source) = texts[option.name] else { continue }
            for given in repeated[option.name] ?? [text] where !option.accepts(given) {
                throw InvalidOptionValue(source: source, given: given, expected: option.expected)
            }
        }
    }
}

/// `--help` text for a command: its usage line, summary and one line per option with its default and variable.
public func helpText(
    program: String, command: String?, summary: String, options: [any OptionDeclaration],
    usageTail: String = "[options]"
) -> String {
    let invocation = [program, command, usageTail].compactMap { $0 }.joined(separator: " ")
    var lines = ["usage: \(invocation)", "", summary, "", "options:"]
    for option in options {
        var left = "  --\(option.name)" + (option.takesValue ? " VALUE" : "")
        if left.count < 28 { left += String(repeating: " ", count: 28 - left.count) } else { left += "  " }
        var line = left + option.helpLine
        if let variable = option.environment { line += " [env: \(variable)]" }
        lines.append(line)
    }
    return lines.joined(separator: "\n") + "\n"
}
