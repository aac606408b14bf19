import Dispatch
import Foundation

/// Turns SIGTERM and SIGINT into a flag the run checks between requests, so it can finish what is in flight,
/// record it and write its reports instead of dying mid-write.
public final class StopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var received: Int32?
    private var sources: [any DispatchSourceSignal] = []

    public init() {}

    /// Starts catching SIGTERM and SIGINT. A second signal of either kind ends the process at once.
    public func install() {
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.receive(number) }
            source.resume()
            sources.append(source)
        }
    }

    /// Records a stop request, as a signal would (tests call this directly).
    public func receive(_ number: Int32) {
        lock.lock()
        let first = received == nil
        if first { received = number }
        lock.unlock()
        if !first { exit(128 + number) }
    }

    /// The signal that asked the run to stop, if any.
    public var stopRequest: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return received
    }
}
