import Foundation

/// Wall time per stage, for the summary, the metrics and the run history.
struct StageTimer {
    private let clock = ContinuousClock()
    private var last: ContinuousClock.Instant
    private(set) var seconds: [(String, Double)] = []

    init() { last = clock.now }

    /// Records a stage that ran beside the others (its seconds overlap theirs).
    mutating func record(_ stage: String, seconds: Double) {
        self.seconds.append((stage, seconds))
    }

    /// Ends `stage`: the time since the previous stage ended.
    mutating func finish(_ stage: String) {
        let now = clock.now
        seconds.append((stage, (now - last).seconds))
        last = now
    }

    /// Ends `stage` and adds its time to the stage's earlier time (a process that repeats its stages keeps one
    /// figure each).
    mutating func add(_ stage: String) {
        let now = clock.now
        let elapsed = (now - last).seconds
        last = now
        if let index = seconds.firstIndex(where: { $0.0 == stage }) {
            seconds[index].1 += elapsed
        } else {
            seconds.append((stage, elapsed))
        }
    }

    var json: String {
        "{" + seconds.map { "\"\($0.0)\":\(String(format: "%.3f", $0.1))" }.joined(separator: ",") + "}"
    }
}

extension Duration {
    /// The duration in seconds, as a `Double` (for reports; never for money).
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
