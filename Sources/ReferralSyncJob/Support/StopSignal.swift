import Dispatch
import Foundation

/// Why a run must stop sending, as a flag it checks between requests so it can finish what is in flight, record it
/// and write its reports instead of dying mid-write: SIGTERM or SIGINT, or the run's lock lost (``LockWatch``).
public final class StopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var received: Int32?
    private var lostLock: String?
    private var sources: [any DispatchSourceSignal] = []

    /// A signal that also hears `parent`'s stop requests (SIGTERM, SIGINT) but keeps a lost lock to itself:
    /// `events --follow` gives each term holding the lock its own, so losing the lock ends that term, not the
    /// process.
    private let parent: StopSignal?

    public init() { parent = nil }

    init(parent: StopSignal) { self.parent = parent }

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
        let own = received
        lock.unlock()
        return own ?? parent?.stopRequest
    }

    /// Records that the run no longer holds its lock, and why: another run may take it, so this one must stop.
    func loseLock(_ why: String) {
        lock.lock()
        defer { lock.unlock() }
        if lostLock == nil { lostLock = why }
    }

    /// Whether the run must start nothing more: a signal came, or the lock is lost.
    var mustStop: Bool { stopRequest != nil || lockLoss != nil }

    /// Why the run lost its lock, if it did.
    var lockLoss: String? {
        lock.lock()
        defer { lock.unlock() }
        return lostLock
    }
}
