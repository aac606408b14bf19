import Foundation

/// Reports progress of a long stage: a periodic log line with count and rate.
final class ProgressReporter {
    private let logger: Logger
    private let label: String
    private let clock = ContinuousClock()
    private let started: ContinuousClock.Instant
    private var lastReport: ContinuousClock.Instant
    private let interval: Duration

    init(logger: Logger, label: String, interval: Duration = .seconds(10)) {
        self.logger = logger
        self.label = label
        self.interval = interval
        started = clock.now
        lastReport = started
    }

    /// Called for every item; logs at most once per interval.
    func tick(_ count: Int) {
        guard count % 256 == 0 else { return }
        let now = clock.now
        guard now - lastReport >= interval else { return }
        lastReport = now
        let elapsed = now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Double(count) / seconds : 0
        logger.info(
            "progress", [("stage", label), ("count", String(count)), ("rate_per_s", String(format: "%.0f", rate))])
    }
}
