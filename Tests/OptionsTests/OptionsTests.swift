import Options
import Testing

/// The option parser: each option declared once gives its parser, default, help line and error.
@Suite struct OptionsTests {
    static let limit = Option<Int>(
        "limit", environment: "TEST_LIMIT", default: 150, summary: "requests per second at most",
        expected: "a whole number above 0", read: { Int($0).flatMap { $0 > 0 ? $0 : nil } })
    static let since = Option<String?>(text: "since", environment: "TEST_SINCE", unsetMeans: "now", summary: "start")
    static let verbose = Option(flag: "verbose", environment: "TEST_VERBOSE", summary: "say more")
    static let tag = Option<String?>(text: "tag", summary: "a tag (repeatable)")
    static let all: [any OptionDeclaration] = [limit, since, verbose, tag]

    static func parse(_ arguments: [String], _ environment: [String: String] = [:]) throws -> ParsedOptions {
        try ParsedOptions(arguments, options: all, environment: environment)
    }

    @Test func anUnsetOptionHasItsDeclaredDefault() throws {
        let options = try Self.parse([])
        #expect(try options.value(Self.limit) == 150)
        #expect(try options.value(Self.since) == nil)
        #expect(try options.value(Self.verbose) == false)
        #expect(!options.isSet(Self.limit))
    }

    @Test func helpShowsTheDefaultTheParserUses() {
        let help = helpText(program: "tool", command: "run", summary: "Does it.", options: Self.all)
        #expect(help.contains("--limit VALUE"))
        #expect(help.contains("requests per second at most (default: 150) [env: TEST_LIMIT]"))
        #expect(help.contains("start (default: now) [env: TEST_SINCE]"))
        #expect(help.contains("  --verbose                 say more [env: TEST_VERBOSE]\n"))
        #expect(help.hasPrefix("usage: tool run [options]\n"))
    }

    @Test func theCommandLineWinsOverTheEnvironment() throws {
        let options = try Self.parse(["--limit", "7"], ["TEST_LIMIT": "9"])
        #expect(try options.value(Self.limit) == 7)
        #expect(options.source(Self.limit) == .commandLine("limit"))
        let fromVariable = try Self.parse([], ["TEST_LIMIT": "9"])
        #expect(try fromVariable.value(Self.limit) == 9)
        #expect(fromVariable.source(Self.limit) == .environment("TEST_LIMIT"))
    }

    @Test func anEmptyVariableCountsAsUnset() throws {
        let options = try Self.parse([], ["TEST_LIMIT": ""])
        #expect(try options.value(Self.limit) == 150)
    }

    @Test func inlineValuesAndFlagsAreRead() throws {
        let options = try Self.parse(["--limit=3", "--verbose", "--since=2024-01-01"])
        #expect(try options.value(Self.limit) == 3)
        #expect(try options.value(Self.verbose))
        #expect(try options.value(Self.since) == "2024-01-01")
    }

    @Test func aFlagSaysYesOrNoInSoManyWordsOrIsRefused() throws {
        for word in ["1", "true", "YES", "on"] {
            #expect(try Self.parse([], ["TEST_VERBOSE": word]).value(Self.verbose), "\(word)")
            #expect(try Self.parse(["--verbose=\(word)"]).value(Self.verbose), "\(word)")
        }
        for word in ["0", "false", "No", "off"] {
            #expect(try !Self.parse([], ["TEST_VERBOSE": word]).value(Self.verbose), "\(word)")
        }
        // An empty variable is unset.
        #expect(try !Self.parse([], ["TEST_VERBOSE": ""]).value(Self.verbose))
        // Anything else is refused when the options are parsed, naming the variable and the accepted words.
        for word in ["y", "maybe", "ture", " 1"] {
            #expect(
                throws: InvalidOptionValue(
                    source: .environment("TEST_VERBOSE"), given: word,
                    expected: "1, true, yes or on, or 0, false, no or off")
            ) {
                try Self.parse([], ["TEST_VERBOSE": word])
            }
        }
        #expect(throws: InvalidOptionValue.self) { try Self.parse(["--verbose=y"]) }
    }

    @Test func anInvalidValueNamesItsSourceAndWhatIsExpected() throws {
        // Values are checked when the options are parsed, before any is read.
        #expect(
            throws: InvalidOptionValue(source: .commandLine("limit"), given: "0", expected: "a whole number above 0")
        ) {
            try Self.parse(["--limit", "0"])
        }
        do {
            _ = try Self.parse([], ["TEST_LIMIT": "lots"])
            Issue.record("an invalid variable was accepted")
        } catch let error as InvalidOptionValue {
            #expect(error.source.isEnvironment)
            #expect(error.description == "TEST_LIMIT is 'lots'. Expected a whole number above 0.")
        }
    }

    @Test func aRepeatedOptionKeepsEveryValueInOrder() throws {
        let options = try Self.parse(["--tag", "a", "--tag=b", "--tag", "c"])
        #expect(try options.values(Self.tag) == ["a", "b", "c"])
        #expect(try options.value(Self.tag) == "c")
    }

    @Test func unknownOptionsMissingValuesAndStrayArgumentsAreUsageErrors() {
        #expect(throws: UsageError.self) { try Self.parse(["--nope"]) }
        #expect(throws: UsageError.self) { try Self.parse(["--limit"]) }
        #expect(throws: UsageError.self) { try Self.parse(["stray"]) }
    }
}
