import Foundation
import Synchronization

/// Thread-safe counters behind `SimulatorStatistics`.
final class StatisticsRecorder: Sendable {
    private struct State {
        var statistics = SimulatorStatistics()
        var currentSecond: UInt64 = 0
        var requestsThisSecond = 0
    }

    private let state = Mutex(State())

    /// Counts an arriving API request and updates the per-second peak.
    func recordRequest(second: UInt64 = MonotonicClock.secondIndex()) {
        state.withLock { state in
            state.statistics.requests += 1
            if state.currentSecond != second {
                state.currentSecond = second
                state.requestsThisSecond = 0
            }
            state.requestsThisSecond += 1
            state.statistics.peakRequestsPerSecond = max(
                state.statistics.peakRequestsPerSecond, state.requestsThisSecond)
        }
    }

    /// Counts an answer's status code.
    func recordStatus(_ status: Int, rateLimited: Bool = false) {
        state.withLock { state in
            state.statistics.statusCounts[String(status), default: 0] += 1
            if status == 429 { state.statistics.tooManyRequests += 1 }
            if rateLimited { state.statistics.rateLimited += 1 }
        }
    }

    /// Counts an injected fault.
    func recordFault(_ kind: FaultKind, count: Int = 1) {
        guard count > 0 else { return }
        state.withLock { $0.statistics.faultsInjected[kind.rawValue, default: 0] += count }
    }

    /// Counts an accepted v1 update.
    func recordAcceptedUpdate() {
        state.withLock { $0.statistics.acceptedUpdates += 1 }
    }

    /// Counts a submitted bulk job.
    func recordBulkJob() {
        state.withLock { $0.statistics.bulkJobsSubmitted += 1 }
    }

    /// Counts bulk records applied at job completion.
    func recordAcceptedBulkRecords(_ count: Int) {
        state.withLock { $0.statistics.acceptedBulkRecords += count }
    }

    /// The counters, with the limiter's admitted peak filled in.
    func snapshot(peakAdmitted: Int) -> SimulatorStatistics {
        var statistics = state.withLock { $0.statistics }
        statistics.peakAdmittedPerSecond = peakAdmitted
        return statistics
    }

    /// Zeroes every counter.
    func reset() {
        state.withLock { $0 = State() }
    }
}
