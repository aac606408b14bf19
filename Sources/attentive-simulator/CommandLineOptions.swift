import AttentiveSimulator
import Foundation
import Options

/// Every option of `attentive-simulator`, each declared once with its default, parser and help (the same small
/// `Options` parser as `referral-sync`'s).
enum SimulatorOptions {
    static let port = Option<Int>(
        "port", default: 0, defaultText: "0 = ephemeral", summary: "port to bind on 127.0.0.1",
        expected: "a whole number from 0 to 65535", read: { wholeNumber($0, in: 0...Int(UInt16.max)) })
    static let apiKey = Option<String?>(
        text: "api-key", environment: "ATTENTIVE_API_KEY", summary: "accepted bearer token (required)")
    static let forbiddenKey = Option<String?>(text: "forbidden-key", summary: "a token answered with 403 (repeatable)")
    static let rateLimit = Option<Int?>(
        "rate-limit", unsetMeans: "unlimited", summary: "requests/s per key for /v1/attributes/custom",
        expected: "a whole number of requests per second, 1 or more", read: { wholeNumber($0, in: 1...Int.max) })
    static let bulkRateLimit = Option<Int?>(
        "bulk-rate-limit", unsetMeans: "unlimited", summary: "requests/s per key for each bulk endpoint",
        expected: "a whole number of requests per second, 1 or more", read: { wholeNumber($0, in: 1...Int.max) })
    static let retryAfter = Option<Int?>(
        "retry-after", unsetMeans: "none", summary: "add Retry-After: N to 429 answers",
        expected: "a whole number of seconds, 0 or more", read: { wholeNumber($0, in: 0...Int.max) })
    static let latency = milliseconds("latency-ms", summary: "delay before each answer")
    static let jitter = milliseconds("jitter-ms", summary: "extra random delay 0...N")
    static let fault500 = probability("fault-500", summary: "probability of 500 with a JSON body")
    static let faultHTML = probability("fault-html", summary: "probability of 502 with an HTML page")
    static let fault429 = probability("fault-429", summary: "probability of a spurious 429")
    static let faultTimeout = probability(
        "fault-timeout", summary: "probability of never answering (connection held up to --hang-seconds)")
    static let faultDrop = probability(
        "fault-drop", summary: "probability of closing the connection (a plain close) without answering")
    static let faultAcceptedThen500 = probability(
        "fault-accepted-then-500", summary: "probability of processing the request, then answering 500")
    static let faultShutdown = probability(
        "fault-shutdown", summary: "probability of shutdown(SHUT_RDWR) and close after reading, without answering")
    static let faultReset = probability(
        "fault-reset", summary: "probability of resetting the connection (RST) after reading, without answering")
    static let faultHalfOpen = probability(
        "fault-half-open", summary: "probability of never answering nor closing (held up to --hang-seconds)")
    static let idleCloseSeconds = Option<Double?>(
        "idle-close-seconds", unsetMeans: "never",
        summary: "close a keep-alive connection idle this long after an answer, like a load balancer",
        expected: "seconds, 0 or more", read: { text in Double(text).flatMap { $0.isFinite && $0 >= 0 ? $0 : nil } })
    static let faultIdleClose = Option<Double>(
        "fault-idle-close", default: 1, defaultText: "1",
        summary: "share of answers after which --idle-close-seconds applies", expected: "a probability from 0 to 1",
        read: { text in Double(text).flatMap { (0...1).contains($0) ? $0 : nil } })
    static let faultUnexpected = probability(
        "fault-unexpected", summary: "probability of a success answer with a non-JSON body (values are stored)")
    static let faultEndless = probability(
        "fault-endless", summary: "probability of a 200 whose chunked body never ends (not processed)")
    static let hangSeconds = Option<Int>(
        "hang-seconds", default: 30,
        summary: "longest hold of a --fault-timeout, --fault-endless or --fault-half-open connection",
        expected: "a whole number of seconds, 0 or more", read: { wholeNumber($0, in: 0...Int.max) })
    static let badIdentity = Option<String?>(
        text: "bad-identity", summary: "email or phone whose requests/records fail with 400 (repeatable)")
    static let rejectionMessage = Option<String?>(
        text: "rejection-message", unsetMeans: "a built-in message",
        summary: "message of those 400 answers and failed bulk records")
    static let foreignEventTypes = Option<[String]>(
        "foreign-event-types", default: [], defaultText: "none",
        summary: "comma-separated event types created by another app: POST /v1/events/custom answers 403 for them",
        expected: "event types separated by commas (a type cannot contain one)",
        read: { text in
            let types = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            return types.contains(where: \.isEmpty) ? nil : types
        })
    static let successStatus = Option<Int>(
        "success-status", default: 200, summary: "status of an accepted POST /v1/attributes/custom",
        expected: "a status from 200 to 299", read: { wholeNumber($0, in: 200...299) })
    static let bulkDelay = Option<Int>(
        "bulk-delay-ms", default: 200, summary: "time a bulk job stays IN_PROGRESS",
        expected: "a whole number of milliseconds, 0 or more", read: { wholeNumber($0, in: 0...Int.max) })
    static let privacyDelay = Option<Int>(
        "privacy-delay-ms", default: 0, summary: "time a deletion request stays unprocessed",
        expected: "a whole number of milliseconds, 0 or more", read: { wholeNumber($0, in: 0...Int.max) })
    static let seed = Option<UInt64>(
        "seed", default: 1, summary: "seed of the fault and jitter generators", expected: "an unsigned integer",
        read: { UInt64($0) })
    static let portFile = Option<String?>(
        text: "port-file", summary: "write the bound port there (atomically) once listening")
    static let dumpFile = Option<String?>(
        text: "dump-file", summary: "on SIGTERM/SIGINT write the accepted profiles as JSON there, then exit 0")
    static let help = Option(flag: "help", summary: "show this help")

    /// Every option, in help order.
    static let all: [any OptionDeclaration] = [
        port, apiKey, forbiddenKey, rateLimit, bulkRateLimit, retryAfter, latency, jitter, fault500, faultHTML,
        fault429, faultTimeout, faultDrop, faultAcceptedThen500, faultShutdown, faultReset, faultHalfOpen,
        idleCloseSeconds, faultIdleClose,
        faultUnexpected, faultEndless, hangSeconds, badIdentity, rejectionMessage, foreignEventTypes, successStatus,
        bulkDelay,
        privacyDelay,
        seed,
        portFile, dumpFile, help,
    ]

    static func probability(_ name: String, summary: String) -> Option<Double> {
        Option(
            name, default: 0, defaultText: "0", summary: summary, expected: "a probability from 0 to 1",
            read: { text in Double(text).flatMap { (0...1).contains($0) ? $0 : nil } })
    }

    static func milliseconds(_ name: String, summary: String) -> Option<Int> {
        Option(
            name, default: 0, summary: summary, expected: "a whole number of milliseconds, 0 or more",
            read: { wholeNumber($0, in: 0...Int.max) })
    }

    static func wholeNumber(_ text: String, in range: ClosedRange<Int>) -> Int? {
        Int(text).flatMap { range.contains($0) ? $0 : nil }
    }
}

/// Parsed command line of `attentive-simulator`.
struct CommandLineOptions: Sendable {
    var configuration: SimulatorConfiguration
    var portFile: String?
    var dumpFile: String?
    var showHelp = false

    static let usage = helpText(
        program: "attentive-simulator", command: nil,
        summary: "Serves a simulated Attentive API on http://127.0.0.1:PORT until SIGTERM or SIGINT.",
        options: SimulatorOptions.all, usageTail: "--api-key KEY [options]")

    /// Reads `arguments` (after the program name); `-h` is taken for `--help`.
    /// - Throws: `UsageError` for an unknown option or a missing value, `InvalidOptionValue` naming the option for
    ///   a bad value, `UsageError` when no API key is given (the messages never include the key).
    static func parse(_ arguments: [String], environment: [String: String]) throws -> CommandLineOptions {
        typealias O = SimulatorOptions
        let parsed = try ParsedOptions(
            arguments.map { $0 == "-h" ? "--help" : $0 }, options: O.all, environment: environment)
        var configuration = SimulatorConfiguration(apiKey: try parsed.value(O.apiKey) ?? "")
        configuration.port = UInt16(try parsed.value(O.port))
        configuration.forbiddenKeys = try parsed.values(O.forbiddenKey).compactMap { $0 }
        configuration.rateLimitPerSecond = try parsed.value(O.rateLimit)
        configuration.bulkRateLimitPerSecond = try parsed.value(O.bulkRateLimit)
        configuration.retryAfterSeconds = try parsed.value(O.retryAfter)
        configuration.latencyMilliseconds = try parsed.value(O.latency)
        configuration.latencyJitterMilliseconds = try parsed.value(O.jitter)
        // Each fault's probability option and the rate it sets, paired once.
        let rates: [(Option<Double>, WritableKeyPath<FaultMix, Double>)] = [
            (O.fault500, \.internalErrorRate),
            (O.faultHTML, \.htmlErrorRate),
            (O.fault429, \.tooManyRequestsRate),
            (O.faultTimeout, \.timeoutRate),
            (O.faultDrop, \.dropConnectionRate),
            (O.faultAcceptedThen500, \.acceptedThenErrorRate),
            (O.faultShutdown, \.shutdownAfterRequestRate),
            (O.faultReset, \.resetConnectionRate),
            (O.faultHalfOpen, \.halfOpenRate),
            (O.faultUnexpected, \.unexpectedBodyRate),
            (O.faultEndless, \.endlessBodyRate),
        ]
        for (option, rate) in rates { configuration.faults[keyPath: rate] = try parsed.value(option) }
        configuration.faults.idleCloseSeconds = try parsed.value(O.idleCloseSeconds)
        configuration.faults.idleCloseRate = try parsed.value(O.faultIdleClose)
        configuration.faults.hangSeconds = try parsed.value(O.hangSeconds)
        configuration.faults.badIdentities = try parsed.values(O.badIdentity).compactMap { $0 }
        configuration.faults.rejectionMessage = try parsed.value(O.rejectionMessage)
        configuration.faults.foreignEventTypes = try parsed.value(O.foreignEventTypes)
        configuration.successStatus = try parsed.value(O.successStatus)
        configuration.bulkCompletionDelayMilliseconds = try parsed.value(O.bulkDelay)
        configuration.privacyProcessingDelayMilliseconds = try parsed.value(O.privacyDelay)
        configuration.seed = try parsed.value(O.seed)
        let options = CommandLineOptions(
            configuration: configuration, portFile: try parsed.value(O.portFile),
            dumpFile: try parsed.value(O.dumpFile), showHelp: try parsed.value(O.help))
        if !options.showHelp, configuration.apiKey.isEmpty {
            throw UsageError("an API key is required: --api-key or ATTENTIVE_API_KEY")
        }
        return options
    }
}
