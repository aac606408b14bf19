import Foundation
import Synchronization

/// The kinds of injected failure, named as in `SimulatorStatistics.faultsInjected`.
enum FaultKind: String, Sendable, CaseIterable {
    case internalError
    case htmlError
    case tooManyRequests
    case timeout
    case dropConnection
    case unexpectedBody
    case badIdentity
    case endlessBody
    case shutdownAfterRequest
    case resetConnection
    case halfOpen
    case idleClose
    case acceptedThenError
    case foreignEventType
}

/// SplitMix64: a small, fast, seedable generator; the same seed gives the same sequence on every platform. The
/// simulator's faults and the tests' generated data draw from it.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator whose sequence `seed` decides.
    public init(seed: UInt64) {
        state = seed
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    /// A uniform value in [0, 1).
    mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }
}

/// Draws faults and latency jitter from generators seeded by the configuration's `seed`.
///
/// Every API request draws exactly one number for the fault choice (whether or not faults are enabled), so a given
/// seed and request order give the same faults. Jitter and idle closes come from generators of their own so that
/// enabling them does not shift the fault sequence.
final class FaultInjector: Sendable {
    private struct State {
        var faultGenerator: SplitMix64
        var jitterGenerator: SplitMix64
        var idleCloseGenerator: SplitMix64
    }

    private let state: Mutex<State>

    init(seed: UInt64) {
        state = Mutex(FaultInjector.makeState(seed: seed))
    }

    private static func makeState(seed: UInt64) -> State {
        State(
            faultGenerator: SplitMix64(seed: seed),
            jitterGenerator: SplitMix64(seed: seed ^ 0x5EED_0F_1A77E2),
            idleCloseGenerator: SplitMix64(seed: seed ^ 0x1D1E_C105_E000))
    }

    /// Restarts both generators from `seed`.
    func reseed(_ seed: UInt64) {
        state.withLock { $0 = FaultInjector.makeState(seed: seed) }
    }

    /// Picks at most one fault for a request according to `mix` (cumulative, in declaration order).
    func drawFault(_ mix: FaultMix) -> FaultKind? {
        let draw = state.withLock { $0.faultGenerator.nextUnit() }
        let rates: [(FaultKind, Double)] = [
            (.internalError, mix.internalErrorRate), (.htmlError, mix.htmlErrorRate),
            (.tooManyRequests, mix.tooManyRequestsRate), (.timeout, mix.timeoutRate),
            (.dropConnection, mix.dropConnectionRate), (.unexpectedBody, mix.unexpectedBodyRate),
            (.endlessBody, mix.endlessBodyRate), (.shutdownAfterRequest, mix.shutdownAfterRequestRate),
            (.resetConnection, mix.resetConnectionRate), (.halfOpen, mix.halfOpenRate),
            (.acceptedThenError, mix.acceptedThenErrorRate),
        ]
        var cumulative = 0.0
        for (kind, rate) in rates {
            let clamped = rate.isFinite ? min(max(rate, 0), 1) : 0
            guard clamped > 0 else { continue }
            cumulative += clamped
            if draw < cumulative { return kind }
        }
        return nil
    }

    /// How long the connection of one answer may then stay idle before the server closes it: `idleCloseSeconds`
    /// for a share `idleCloseRate` of answers (one draw per answer while it is set), `nil` for the others.
    func drawIdleClose(_ mix: FaultMix) -> Double? {
        guard let seconds = mix.idleCloseSeconds, seconds.isFinite, seconds >= 0 else { return nil }
        let draw = state.withLock { $0.idleCloseGenerator.nextUnit() }
        let rate = mix.idleCloseRate.isFinite ? min(max(mix.idleCloseRate, 0), 1) : 0
        return draw < rate ? seconds : nil
    }

    /// The delay for one answer: `base` plus a uniform jitter in `0...jitter`.
    func latency(base: Int, jitter: Int) -> Int {
        guard jitter > 0 else { return max(0, base) }
        let extra = state.withLock { Int($0.jitterGenerator.next() % UInt64(jitter + 1)) }
        return max(0, base) + extra
    }
}
