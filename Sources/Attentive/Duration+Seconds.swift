import Foundation

extension Duration {
    /// The duration as a floating-point number of seconds.
    public var inSeconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }

    /// A duration from a floating-point number of seconds; NaN and negative values become zero,
    /// values beyond a year are clamped so arithmetic on them cannot overflow.
    static func clampedSeconds(_ seconds: Double) -> Duration {
        guard seconds.isFinite, seconds > 0 else { return .zero }
        return .seconds(Swift.min(seconds, 365 * 24 * 3600))
    }
}
