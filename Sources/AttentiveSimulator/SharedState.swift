import Foundation

/// A value guarded by a lock, for state shared between connection threads.
final class SharedState<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()

    init(_ value: Value) {
        self.value = value
    }

    /// Runs `body` with exclusive access to the value.
    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

/// Monotonic time helpers (nanoseconds since boot), immune to wall-clock changes.
enum MonotonicClock {
    /// Nanoseconds on the monotonic clock.
    static func nanoseconds() -> UInt64 {
        DispatchTime.now().uptimeNanoseconds
    }

    /// Index of the whole monotonic second containing now; used for 1-second windows.
    static func secondIndex() -> UInt64 {
        nanoseconds() / 1_000_000_000
    }
}
