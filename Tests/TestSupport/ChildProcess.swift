import Foundation

/// Runs a program to its end without blocking a thread of the concurrency pool: its output goes to a file,
/// and the test awaits the exit by polling. (Blocking reads or `waitUntilExit()` would hold one of the few pool
/// threads for seconds and slow every other test running meanwhile.)
public enum ChildProcess {
    /// What a finished program left.
    public struct Finished: Sendable {
        public var status: Int32
        /// Standard output and standard error, interleaved.
        public var output: String
    }

    /// Why a program could not be run to its end.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Runs `executable arguments…` with `environment` (the test's own when `nil`).
    /// - Parameter input: A file to read standard input from (empty when `nil`).
    /// - Throws: `Failure` when it does not end within `seconds` (it is then killed).
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, input: String? = nil,
        seconds: Double = 120
    ) async throws -> Finished {
        let folder = try makeTemporaryFolder("child")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let outputPath = folder + "/output"
        FileManager.default.createFile(atPath: outputPath, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        defer { try? output.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardInput =
            try input.map { try FileHandle(forReadingFrom: URL(fileURLWithPath: $0)) } ?? FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw Failure(description: "\(executable) \(arguments) did not end within \(seconds) s")
        }
        process.waitUntilExit()
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return Finished(status: process.terminationStatus, output: text)
    }
}
