import Foundation
import Testing

@testable import ReferralSyncCLI
@testable import ReferralSyncJob

/// The progress line on a terminal and the periodic log line elsewhere.
@Suite struct ProgressReporterTests {
    /// Collects what a logger writes.
    final class Output: @unchecked Sendable {
        private let lock = NSLock()
        private var text = ""
        func append(_ line: String) { lock.withLock { text += line } }
        var value: String { lock.withLock { text } }
    }

    @Test func terminalGetsOneUpdatingLineWithCountRateAndETA() {
        let output = Output()
        let logger = Logger(level: .info, sink: { output.append($0) })
        let progress = ProgressReporter(
            logger: logger, label: "participants", expectedCount: 128, terminal: true, interval: .zero)
        progress.tick(32)
        progress.tick(64)
        let drawn = output.value
        #expect(drawn.hasPrefix("\r\u{1B}[2Kparticipants 32/128 (25%) "))
        #expect(drawn.contains("\r\u{1B}[2Kparticipants 64/128 (50%) "))
        #expect(drawn.contains(" ETA "))
        #expect(!drawn.contains("\n"))

        logger.warning("slow answers")
        let afterLog = output.value.dropFirst(drawn.count)
        // The log line replaces the progress line, which is drawn again below it.
        #expect(afterLog.hasPrefix("\r\u{1B}[2Kts="))
        #expect(afterLog.contains("msg=\"slow answers\"\n\r\u{1B}[2Kparticipants 64/128 (50%) "))

        progress.finish(128)
        #expect(output.value.hasSuffix("\n"))
        #expect(output.value.contains("participants 128/128 (100%) "))
        #expect(output.value.contains(" in 0:0"))
    }

    @Test func withoutATerminalItLogsAPeriodicLine() {
        let output = Output()
        let logger = Logger(level: .info, sink: { output.append($0) })
        let progress = ProgressReporter(logger: logger, label: "participants", terminal: false, interval: .zero)
        progress.tick(100)
        #expect(output.value.isEmpty)
        progress.tick(256, "requests 7")
        let line = output.value
        #expect(line.hasSuffix("\n"))
        #expect(line.contains("msg=progress stage=participants count=256 rate_per_s="))
        #expect(line.contains("detail=\"requests 7\""))
        #expect(!line.contains("\r"))
        progress.finish(300)
        #expect(output.value == line)
    }

    @Test func quietLoggerDrawsNoProgressLine() {
        let output = Output()
        let logger = Logger(level: .warning, sink: { output.append($0) })
        let progress = ProgressReporter(logger: logger, label: "participants", terminal: true, interval: .zero)
        progress.tick(64)
        progress.finish(64)
        #expect(output.value.isEmpty)
    }

    @Test func lineShowsETAOnlyWhenTheTotalIsKnown() {
        let known = ProgressReporter.line(
            label: "checked", count: 25, expectedCount: 100, rate: 5, detail: "", elapsed: 5, final: false)
        #expect(known == "checked 25/100 (25%) 5/s ETA 0:15")
        let unknown = ProgressReporter.line(
            label: "participants", count: 5000, expectedCount: nil, rate: 1234.4, detail: "requests 12", elapsed: 4,
            final: false)
        #expect(unknown == "participants 5000 1234/s · requests 12")
        #expect(ProgressReporter.clockText(3725) == "1:02:05")
    }
}
