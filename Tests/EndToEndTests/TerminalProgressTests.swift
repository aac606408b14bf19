import Foundation
import TestSupport
import Testing

/// On a terminal the job draws one updating progress line; elsewhere (the other end-to-end tests, cron) it
/// writes log lines only.
@Suite struct TerminalProgressTests {
    @Test func terminalGetsOneUpdatingProgressLine() async throws {
        let binary = try #require(JobProcess.binary, "referral-sync is not built")
        let harness = try await ExecutableHarness { $0.latencyMilliseconds = 10 }
        try harness.insertParticipants(0..<100)
        // util-linux `script` gives the job a pseudo-terminal as its standard error and copies what it draws.
        let script = try await ChildProcess.run(
            "/usr/bin/script", ["--quiet", "--return", "--command", "'\(binary)' run --concurrency 1", "/dev/null"],
            environment: harness.environment.merging(["PATH": "/usr/bin:/bin", "TERM": "xterm"]) { $1 })
        let text = script.output
        #expect(script.status == 0, "\(text)")
        #expect(text.contains("\r\u{1B}[2Kchanged participants 32 "))
        #expect(text.contains("\r\u{1B}[2Kchanged participants 100 "))
        #expect(text.contains("· requests "))
        #expect(text.contains(" in 0:"))
        #expect(text.contains("msg=\"run finished\""))
        #expect(!text.contains("msg=progress"))
        #expect(harness.simulator.profiles().count == 100)
    }
}
