import Foundation
import TestSupport
import Testing

/// What a child started by the tests' one spawner gets: what a scheduler gives it, not the test runner's state.
@Suite struct SpawnedProcessTests {
    @Test func aChildGetsItsFolderItsInputAndItsOwnOutputFiles() async throws {
        let folder = try makeTemporaryFolder("spawn")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "from a file\n".write(toFile: folder + "/input", atomically: true, encoding: .utf8)
        // A bare name is looked up in PATH.
        let script = "pwd; cat; echo oops >&2"
        let child = try SpawnedProcess(
            "sh", ["-c", script], inputPath: folder + "/input", outputPath: folder + "/out",
            errorPath: folder + "/err", directory: folder, environment: ["PATH": "/usr/bin:/bin"])
        let exit = try #require(await child.exit(within: 30))
        #expect(exit.status == 0 && exit.signal == 0)
        let output = try String(contentsOfFile: folder + "/out", encoding: .utf8)
        #expect(output == URL(fileURLWithPath: folder).resolvingSymlinksInPath().path + "\nfrom a file\n")
        #expect(try String(contentsOfFile: folder + "/err", encoding: .utf8) == "oops\n")
    }

    @Test func aChildBlocksNoSignalHoldsNoOtherDescriptorAndASignalEndingItIsReported() async throws {
        let folder = try makeTemporaryFolder("spawn")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // A descriptor of the test runner without close-on-exec, as a socket or pipe of another test may be.
        let leaked = open("/dev/null", O_RDONLY)
        defer { close(leaked) }
        let child = try SpawnedProcess("/bin/sleep", ["30"], outputPath: folder + "/out")
        let status = try String(contentsOfFile: "/proc/\(child.pid)/status", encoding: .utf8)
        #expect(status.contains("SigBlk:\t0000000000000000\n"), "\(status)")
        // Only stdin, stdout and stderr (the loader's own may show for a moment after the exec).
        var descriptors: [String] = []
        for _ in 0..<100 {
            descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(child.pid)/fd").sorted()
            if descriptors == ["0", "1", "2"] { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(descriptors == ["0", "1", "2"])
        kill(child.processIdentifier, SIGTERM)
        let exit = try #require(await child.exit(within: 30))
        #expect(exit.signal == SIGTERM && exit.status == 128 + SIGTERM && exit.terminationStatus == SIGTERM)
    }
}
