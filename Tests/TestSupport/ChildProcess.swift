import Foundation

/// Runs a program to its end without blocking a thread of the concurrency pool: its output goes to a file,
/// and the test awaits the exit by polling. (Blocking reads or `waitUntilExit()` would hold one of the few pool
/// threads for seconds and slow every other test running meanwhile.) Started by `SpawnedProcess`, never by
/// Foundation's `Process` (see there why).
public enum ChildProcess {
    /// What a finished program left.
    public struct Finished: Sendable {
        /// The exit status, or the number of the signal that ended the program.
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
    /// - Throws: `Failure` when it does not end within `seconds` (it is then stopped).
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, input: String? = nil,
        seconds: Double = 120
    ) async throws -> Finished {
        let folder = try makeTemporaryFolder("child")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let outputPath = folder + "/output"
        let process = try SpawnedProcess(
            executable, arguments, inputPath: input, outputPath: outputPath, environment: environment)
        guard let exit = await process.exit(within: seconds) else {
            throw Failure(description: "\(executable) \(arguments) did not end within \(seconds) s")
        }
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return Finished(status: exit.terminationStatus, output: text)
    }
}
