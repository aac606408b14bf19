import Foundation
import Synchronization

/// The retry sleeping a client may still do this run (``RetryPolicy/maxTotalRetryTime``), shared by
/// all of its requests.
final class RetryBudget: Sendable {
    private let remaining: Mutex<Duration>

    init(total: Duration) {
        remaining = Mutex(max(.zero, total))
    }

    /// Takes `delay` from the budget; `false` (and nothing taken) when less than that remains.
    func reserve(_ delay: Duration) -> Bool {
        remaining.withLock { left in
            guard left > .zero, delay <= left else { return false }
            left -= delay
            return true
        }
    }

    /// Time left for retry sleeping.
    var left: Duration { remaining.withLock { $0 } }
}
