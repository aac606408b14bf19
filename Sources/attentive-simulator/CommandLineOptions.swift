import AttentiveSimulator
import Foundation

/// Parsed command line of `attentive-simulator`.
struct CommandLineOptions: Sendable {
    var configuration: SimulatorConfiguration
    var portFile: String?
    var dumpFile: String?
    var showHelp = false

    static let usage = """
        usage: attentive-simulator --api-key KEY [options]

        Serves a simulated Attentive API on http://127.0.0.1:PORT until SIGTERM or SIGINT.

          --port N                 port to bind on 127.0.0.1 (default 0 = ephemeral)
          --api-key K              accepted bearer token (or env ATTENTIVE_API_KEY; required)
          --forbidden-key K        a token answered with 403 (repeatable)
          --rate-limit N           requests/s per key for /v1/attributes/custom (default unlimited)
          --bulk-rate-limit N      requests/s per key for each bulk endpoint (default unlimited)
          --retry-after N          add Retry-After: N to 429 answers
          --latency-ms N           delay before each answer
          --jitter-ms N            extra random delay 0...N
          --fault-500 P            probability of 500 with a JSON body
          --fault-html P           probability of 502 with an HTML page
          --fault-429 P            probability of a spurious 429
          --fault-timeout P        probability of never answering (connection held up to --hang-seconds)
          --fault-drop P           probability of closing the connection without answering
          --fault-unexpected P     probability of a success answer with a non-JSON body (values are stored)
          --fault-endless P        probability of a 200 whose chunked body never ends (not processed)
          --hang-seconds N         longest hold of a --fault-timeout or --fault-endless answer (default 30)
          --bad-identity X         email or phone whose requests/records fail with 400 (repeatable)
          --rejection-message M    message of those 400 answers and failed bulk records
          --success-status N       status of an accepted POST /v1/attributes/custom, 200-299 (default 200)
          --bulk-delay-ms N        time a bulk job stays IN_PROGRESS (default 200)
          --seed N                 seed of the fault and jitter generators (default 1)
          --port-file PATH         write the bound port there (atomically) once listening
          --dump-file PATH         on SIGTERM/SIGINT write the accepted profiles as JSON there, then exit 0
          --help                   show this help

        """

    /// An error message for a bad command line (never includes the API key).
    struct UsageError: Error, CustomStringConvertible {
        var description: String
    }

    static func parse(_ arguments: [String], environment: [String: String]) throws -> CommandLineOptions {
        var configuration = SimulatorConfiguration(apiKey: environment["ATTENTIVE_API_KEY"] ?? "")
        var options = CommandLineOptions(configuration: configuration)
        var remaining = arguments[...]
        func value(_ flag: String) throws -> String {
            guard let next = remaining.popFirst() else { throw UsageError(description: "\(flag) needs a value") }
            return next
        }
        func integer(_ flag: String, minimum: Int = 0) throws -> Int {
            let text = try value(flag)
            guard let number = Int(text), number >= minimum else {
                throw UsageError(description: "\(flag) needs an integer >= \(minimum), got '\(text)'")
            }
            return number
        }
        func probability(_ flag: String) throws -> Double {
            let text = try value(flag)
            guard let number = Double(text), (0...1).contains(number) else {
                throw UsageError(description: "\(flag) needs a probability between 0 and 1, got '\(text)'")
            }
            return number
        }
        while let flag = remaining.popFirst() {
            switch flag {
            case "--help", "-h": options.showHelp = true
            case "--port":
                let port = try integer(flag)
                guard port <= Int(UInt16.max) else { throw UsageError(description: "--port must be <= 65535") }
                configuration.port = UInt16(port)
            case "--api-key": configuration.apiKey = try value(flag)
            case "--forbidden-key": configuration.forbiddenKeys.append(try value(flag))
            case "--rate-limit": configuration.rateLimitPerSecond = try integer(flag, minimum: 1)
            case "--bulk-rate-limit": configuration.bulkRateLimitPerSecond = try integer(flag, minimum: 1)
            case "--retry-after": configuration.retryAfterSeconds = try integer(flag)
            case "--latency-ms": configuration.latencyMilliseconds = try integer(flag)
            case "--jitter-ms": configuration.latencyJitterMilliseconds = try integer(flag)
            case "--fault-500": configuration.faults.internalErrorRate = try probability(flag)
            case "--fault-html": configuration.faults.htmlErrorRate = try probability(flag)
            case "--fault-429": configuration.faults.tooManyRequestsRate = try probability(flag)
            case "--fault-timeout": configuration.faults.timeoutRate = try probability(flag)
            case "--fault-drop": configuration.faults.dropConnectionRate = try probability(flag)
            case "--fault-unexpected": configuration.faults.unexpectedBodyRate = try probability(flag)
            case "--fault-endless": configuration.faults.endlessBodyRate = try probability(flag)
            case "--hang-seconds": configuration.faults.hangSeconds = try integer(flag)
            case "--rejection-message": configuration.faults.rejectionMessage = try value(flag)
            case "--success-status":
                let status = try integer(flag, minimum: 200)
                guard status < 300 else { throw UsageError(description: "--success-status must be 200-299") }
                configuration.successStatus = status
            case "--bad-identity": configuration.faults.badIdentities.append(try value(flag))
            case "--bulk-delay-ms": configuration.bulkCompletionDelayMilliseconds = try integer(flag)
            case "--seed":
                let text = try value(flag)
                guard let seed = UInt64(text) else { throw UsageError(description: "--seed needs an unsigned integer") }
                configuration.seed = seed
            case "--port-file": options.portFile = try value(flag)
            case "--dump-file": options.dumpFile = try value(flag)
            default: throw UsageError(description: "unknown option '\(flag)'")
            }
        }
        if !options.showHelp, configuration.apiKey.isEmpty {
            throw UsageError(description: "an API key is required: --api-key or ATTENTIVE_API_KEY")
        }
        options.configuration = configuration
        return options
    }
}
