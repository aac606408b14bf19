import Foundation

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
