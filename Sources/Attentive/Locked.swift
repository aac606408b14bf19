import Foundation

/// A value guarded by a lock, for the few bits of shared mutable state the client keeps
/// (statistics, halt and shutdown flags, the retry budget).
///
/// `NSLock` rather than `Synchronization.Mutex` so the package keeps building for macOS 13.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    /// Runs `body` with exclusive access to the value. `body` must not block or await.
    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
