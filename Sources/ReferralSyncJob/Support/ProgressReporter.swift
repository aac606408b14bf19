import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reports progress of a long stage (recompute and sync, drift checks). On a terminal: one progress line,
/// redrawn in place, with the count, the rate and, when the total is known, the ETA. Otherwise (cron, systemd,
/// Kubernetes): a log line with count and rate at most once per `interval`.
final class ProgressReporter {
    private let logger: Logger
    private let label: String
    private let expectedCount: Int?
    private let terminal: Bool
    private let clock = ContinuousClock()
    private let started: ContinuousClock.Instant
    private var lastReport: ContinuousClock.Instant
    private let interval: Duration
    private var shown = false

    /// Whether standard error is a terminal a person watches.
    static var standardErrorIsTerminal: Bool { isatty(STDERR_FILENO) != 0 }

    /// - Parameters:
    ///   - label: What is counted, e.g. `participants`.
    ///   - expectedCount: How many there will be, when known cheaply (then the terminal line shows an ETA).
    ///   - terminal: Draw a progress line (a terminal) rather than log lines. The line is not drawn when the
    ///     logger is quiet.
    ///   - interval: Least time between reports: by default 10 s between log lines, 0.2 s between redraws.
    init(
        logger: Logger, label: String, expectedCount: Int? = nil,
        terminal: Bool = ProgressReporter.standardErrorIsTerminal,
        interval: Duration? = nil
    ) {
        self.logger = logger
        self.label = label
        self.expectedCount = expectedCount
        self.terminal = terminal && logger.isEnabled(.info)
        self.interval = interval ?? (terminal ? .milliseconds(200) : .seconds(10))
        started = clock.now
        lastReport = started
    }

    /// Called for every item, with the count so far and what else to show (e.g. requests sent); reports at most
    /// once per interval.
    func tick(_ count: Int, _ detail: @autoclosure () -> String = "") {
        guard count % (terminal ? 32 : 256) == 0 else { return }
        let now = clock.now
        guard now - lastReport >= interval else { return }
        lastReport = now
        report(count, detail(), final: false)
    }

    /// Ends the stage: the terminal line is left showing the final count. Nothing is logged otherwise (the
    /// stage's own end line says it).
    func finish(_ count: Int, _ detail: String = "") {
        guard terminal, shown else { return }
        report(count, detail, final: true)
    }

    private func report(_ count: Int, _ detail: String, final: Bool) {
        let seconds = max((clock.now - started).seconds, 0.001)
        let rate = Double(count) / seconds
        if terminal {
            let line = Self.line(
                label: label, count: count, expectedCount: expectedCount, rate: rate, detail: detail, elapsed: seconds,
                final: final)
            shown = true
            if final { logger.endStatus(line) } else { logger.showStatus(line) }
        } else {
            var fields = [("stage", label), ("count", String(count)), ("rate_per_s", String(format: "%.0f", rate))]
            if let expectedCount { fields.append(("total", String(expectedCount))) }
            if !detail.isEmpty { fields.append(("detail", detail)) }
            logger.info("progress", fields)
        }
    }

    /// The terminal line: `participants 12345/50000 (25%) 1234/s ETA 0:28 · requests 310`.
    static func line(
        label: String, count: Int, expectedCount: Int?, rate: Double, detail: String, elapsed: Double, final: Bool
    ) -> String {
        var text = "\(label) \(count)"
        if let expectedCount, expectedCount > 0 {
            text += "/\(expectedCount) (\(min(100, count * 100 / expectedCount))%)"
        }
        text += String(format: " %.0f/s", rate)
        if final {
            text += " in " + clockText(elapsed)
        } else if let expectedCount, rate > 0, count < expectedCount {
            text += " ETA " + clockText(Double(expectedCount - count) / rate)
        }
        if !detail.isEmpty { text += " · " + detail }
        return text
    }

    /// `h:mm:ss` or `m:ss`.
    static func clockText(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.up))
        let (hours, minutes, rest) = (whole / 3600, whole / 60 % 60, whole % 60)
        return hours > 0
            ? String(format: "%d:%02d:%02d", hours, minutes, rest) : String(format: "%d:%02d", minutes, rest)
    }
}
