import AttentiveSimulator
import Foundation
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
}

@Suite("attentive-simulator executable")
struct ExecutableTests {
    @Test(
        "serves, writes the port file, and dumps accepted profiles on SIGTERM",
        .enabled(if: SimulatorExecutable.url != nil))
    func smoke() async throws {
        let binary = try #require(SimulatorExecutable.url)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sim-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let portFile = directory.appendingPathComponent("port")
        let dumpFile = directory.appendingPathComponent("dump.json")

        let process = Process()
        process.executableURL = binary
        process.arguments = ["--port", "0", "--port-file", portFile.path, "--dump-file", dumpFile.path, "--seed", "3"]
        process.environment = ["ATTENTIVE_API_KEY": "exec-secret-key"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
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

        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let dumped = try JSONDecoder().decode([SimulatedProfile].self, from: Data(contentsOf: dumpFile))
        #expect(dumped == [SimulatedProfile(email: "exec@example.com", attributes: ["tier": "gold"])])
    }
}
