import AttentiveSimulator
import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Finds the `attentive-simulator` binary next to the test bundle, when it was built.
enum SimulatorExecutable {
    static let url: URL? = {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments.first ?? "").deletingLastPathComponent(),
            Bundle.main.bundleURL.deletingLastPathComponent(),
            Bundle.main.bundleURL,
        ]
        for directory in candidates {
            let binary = directory.appendingPathComponent("attentive-simulator")
            if FileManager.default.isExecutableFile(atPath: binary.path) { return binary }
        }
        return nil
    }()

    /// Starts the simulator, its stdout and stderr in files in `directory`, and awaits the first line it prints
    /// (`attentive-simulator listening on URL`, with its newline).
    static func start(_ arguments: [String], environment: [String: String], in directory: String) async throws
        -> (SpawnedProcess, String)
    {
        let binary = try #require(url).path
        let outputPath = directory + "/stdout"
        let process = try SpawnedProcess(
            binary, arguments, outputPath: outputPath, errorPath: directory + "/stderr", environment: environment)
        for _ in 0..<1000 {
            let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            if let end = text.firstIndex(of: "\n") { return (process, String(text[...end])) }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw SpawnedProcess.Failure(description: "attentive-simulator printed no line within 20 s")
    }
}

@Suite("attentive-simulator executable")
struct ExecutableTests {
    @Test(
        "serves, writes the port file, and dumps accepted profiles on SIGTERM",
        .enabled(if: SimulatorExecutable.url != nil))
    func smoke() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sim-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let portFile = directory.appendingPathComponent("port")
        let dumpFile = directory.appendingPathComponent("dump.json")

        let (process, line) = try await SimulatorExecutable.start(
            ["--port", "0", "--port-file", portFile.path, "--dump-file", dumpFile.path, "--seed", "3"],
            environment: ["ATTENTIVE_API_KEY": "exec-secret-key"], in: directory.path)
        #expect(line.hasPrefix("attentive-simulator listening on http://127.0.0.1:"))
        #expect(!line.contains("exec-secret-key"))
        let portText = try String(contentsOf: portFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let port = try #require(UInt16(portText))
        #expect(line.contains(":\(port)"))

        let url = try #require(URL(string: "http://127.0.0.1:\(port)/v1/attributes/custom"))
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("Bearer exec-secret-key", forHTTPHeaderField: "Authorization")
        request.httpBody = Data(customAttributesBody(email: "exec@example.com").utf8)
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        let (_, response) = try await session.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)

        kill(process.processIdentifier, SIGTERM)
        let exit = try #require(await process.exit(within: 20), "attentive-simulator did not stop on SIGTERM")
        #expect(exit.status == 0)
        let dumped = try JSONDecoder().decode([SimulatedProfile].self, from: Data(contentsOf: dumpFile))
        #expect(dumped == [SimulatedProfile(email: "exec@example.com", attributes: ["tier": "gold"])])
    }

    @Test(
        "--help lists every option with its default and needs no key", .enabled(if: SimulatorExecutable.url != nil))
    func help() async throws {
        let binary = try #require(SimulatorExecutable.url).path
        for flag in ["--help", "-h"] {
            let finished = try await ChildProcess.run(binary, [flag], environment: [:], seconds: 20)
            #expect(finished.status == 0)
            #expect(finished.output.hasPrefix("usage: attentive-simulator --api-key KEY [options]\n"))
            for line in [
                "--port VALUE              port to bind on 127.0.0.1 (default: 0 = ephemeral)",
                "--api-key VALUE           accepted bearer token (required) [env: ATTENTIVE_API_KEY]",
                "--rate-limit VALUE        requests/s per key for /v1/attributes/custom (default: unlimited)",
                "--fault-drop VALUE        probability of closing the connection (a plain close) without answering (default: 0)",
                "--fault-reset VALUE       probability of resetting the connection (RST) after reading, without answering "
                    + "(default: 0)",
                "--idle-close-seconds VALUE  close a keep-alive connection idle this long after an answer, like a load "
                    + "balancer (default: never)",
                "--fault-idle-close VALUE  share of answers after which --idle-close-seconds applies (default: 1)",
                "--hang-seconds VALUE      longest hold of a --fault-timeout, --fault-endless or --fault-half-open connection "
                    + "(default: 30)",
                "--success-status VALUE    status of an accepted POST /v1/attributes/custom (default: 200)",
                "--bulk-delay-ms VALUE     time a bulk job stays IN_PROGRESS (default: 200)",
                "--privacy-delay-ms VALUE  time a deletion request stays unprocessed (default: 0)",
                "--seed VALUE              seed of the fault and jitter generators (default: 1)",
            ] {
                #expect(finished.output.contains("  " + line + "\n"), "\(line)")
            }
        }
    }

    @Test(
        "a bad value or a missing key is a usage error (exit 2) naming the option, never the key",
        .enabled(if: SimulatorExecutable.url != nil))
    func usageErrors() async throws {
        let binary = try #require(SimulatorExecutable.url).path
        let cases: [([String], String)] = [
            (["--port", "70000"], "--port is '70000'"), (["--fault-500", "1.5"], "--fault-500 is '1.5'"),
            (["--fault-reset", "-0.1"], "--fault-reset is '-0.1'"),
            (["--idle-close-seconds", "soon"], "--idle-close-seconds is 'soon'"),
            (["--success-status", "302"], "--success-status is '302'"), (["--rate-limit", "0"], "--rate-limit is '0'"),
            (["--seed", "-1"], "--seed is '-1'"), (["--nonsense"], "unknown option --nonsense"),
            (["--latency-ms"], "--latency-ms needs a value"),
        ]
        for (arguments, message) in cases {
            let finished = try await ChildProcess.run(
                binary, arguments, environment: ["ATTENTIVE_API_KEY": "usage-secret"], seconds: 20)
            #expect(finished.status == 2, "\(arguments)")
            #expect(finished.output.hasPrefix("attentive-simulator: " + message), "\(finished.output)")
            #expect(!finished.output.contains("usage-secret"))
        }
        let keyless = try await ChildProcess.run(binary, ["--port", "0"], environment: [:], seconds: 20)
        #expect(keyless.status == 2)
        #expect(keyless.output.hasPrefix("attentive-simulator: an API key is required: --api-key or ATTENTIVE_API_KEY"))
    }

    @Test(
        "every flag lands in the configuration it serves, repeatable ones in order",
        .enabled(if: SimulatorExecutable.url != nil))
    func flagsConfigure() async throws {
        let directory = try makeTemporaryFolder("sim-flags")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let arguments = [
            "--api-key", "flag-key", "--forbidden-key", "ro-1", "--forbidden-key", "ro-2", "--rate-limit", "7",
            "--bulk-rate-limit", "3", "--retry-after", "2", "--latency-ms", "5", "--jitter-ms", "4",
            "--fault-500", "0.1", "--fault-html", "0.05", "--fault-429", "0.02", "--fault-timeout", "0.01",
            "--fault-drop=0.03", "--fault-shutdown", "0.07", "--fault-reset", "0.08", "--fault-half-open", "0.09",
            "--idle-close-seconds", "1.5", "--fault-idle-close", "0.25", "--fault-unexpected", "0.04",
            "--fault-endless", "0.06", "--hang-seconds", "9",
            "--bad-identity", "a@example.com", "--bad-identity", "+15550001111", "--rejection-message", "nope",
            "--foreign-event-types", "Sent Okendo Referral, Okendo Referral Invitation", "--success-status", "204",
            "--bulk-delay-ms", "0", "--privacy-delay-ms", "250",
            "--seed", "42",
        ]
        let (process, line) = try await SimulatorExecutable.start(arguments, environment: [:], in: directory)
        defer { process.stop() }
        let address = try #require(line.split(separator: " ").last).trimmingCharacters(in: .whitespacesAndNewlines)
        let url = try #require(URL(string: address + "/__simulator/config"))
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        let (data, _) = try await session.data(from: url)
        let served = try JSONDecoder().decode(SimulatorConfiguration.self, from: data)

        var expected = SimulatorConfiguration(apiKey: "flag-key")
        expected.forbiddenKeys = ["ro-1", "ro-2"]
        expected.rateLimitPerSecond = 7
        expected.bulkRateLimitPerSecond = 3
        expected.retryAfterSeconds = 2
        expected.latencyMilliseconds = 5
        expected.latencyJitterMilliseconds = 4
        expected.faults.internalErrorRate = 0.1
        expected.faults.htmlErrorRate = 0.05
        expected.faults.tooManyRequestsRate = 0.02
        expected.faults.timeoutRate = 0.01
        expected.faults.dropConnectionRate = 0.03
        expected.faults.shutdownAfterRequestRate = 0.07
        expected.faults.resetConnectionRate = 0.08
        expected.faults.halfOpenRate = 0.09
        expected.faults.idleCloseSeconds = 1.5
        expected.faults.idleCloseRate = 0.25
        expected.faults.unexpectedBodyRate = 0.04
        expected.faults.endlessBodyRate = 0.06
        expected.faults.hangSeconds = 9
        expected.faults.badIdentities = ["a@example.com", "+15550001111"]
        expected.faults.rejectionMessage = "nope"
        expected.faults.foreignEventTypes = ["Sent Okendo Referral", "Okendo Referral Invitation"]
        expected.successStatus = 204
        expected.bulkCompletionDelayMilliseconds = 0
        expected.privacyProcessingDelayMilliseconds = 250
        expected.seed = 42
        #expect(served == expected.redacted)
    }
}
