import Foundation
import Postgres
import ReferralStore

/// The follower's doorbell: a connection of its own that `LISTEN`s on the channel the input tables' triggers notify
/// (`sql/definitions/70_change_notes.sql`: once per statement, the store's schema as the payload). It only says
/// when to look; the event notes say what changed, so a notification lost while the connection was down costs a
/// little time, never an event: after a reconnect the listener rings once, and the follower looks.
final class NotificationListener {
    /// The channel of `70_change_notes.sql`.
    static let channel = "referral_sync_events"
    /// How long one wait on the socket lasts before a stop request is looked at again.
    static let slice: Duration = .milliseconds(250)

    private let context: JobContext
    private let store: String
    private let log: FollowerLog
    private var connection: PostgresConnection?
    private var backoff = ReconnectBackoff()
    private var retryAt = ContinuousClock.now

    /// Connects and listens; a failure here is reported by the first ``wait(until:stop:)``, which retries.
    init(context: JobContext, store: String, log: FollowerLog) {
        self.context = context
        self.store = store
        self.log = log
        connection = try? connectAndListen()
        if connection != nil {
            log.enter(.listener, "listening", "listening for new rows", [("channel", Self.channel)])
        }
    }

    deinit { connection?.close() }

    /// Waits for a notification of this store, for `deadline`, or for a stop request.
    /// - Returns: Whether it was woken (a notification, or a reconnect after which a look is due); `false` at the
    ///   deadline or on a stop.
    func wait(until deadline: ContinuousClock.Instant, stop: StopSignal) -> Bool {
        while !stop.mustStop {
            let now = ContinuousClock.now
            if now >= deadline { return false }
            guard let connection else {
                if now < retryAt {
                    Thread.sleep(forTimeInterval: min(deadline - now, retryAt - now, Self.slice).seconds)
                    continue
                }
                do {
                    self.connection = try connectAndListen()
                    backoff.reset()
                    log.enter(
                        .listener, "listening", "listening for new rows again: looking for what came meanwhile",
                        [("channel", Self.channel)])
                    return true
                } catch {
                    lost(error)
                    continue
                }
            }
            do {
                let received = try connection.notifications(waitingUpTo: min(deadline - now, Self.slice))
                if received.contains(where: { $0.payload == store }) { return true }
            } catch {
                connection.close()
                self.connection = nil
                lost(error)
            }
        }
        return false
    }

    /// Lets a burst of commits gather for `window` (a load of many statements wakes one pass, not one per statement).
    func gather(for window: Duration) {
        let end = ContinuousClock.now + window
        while let connection, ContinuousClock.now < end {
            _ = try? connection.notifications(waitingUpTo: end - ContinuousClock.now)
        }
    }

    private func connectAndListen() throws -> PostgresConnection {
        let connection = try context.connect(applicationName: "referral-sync events listener")
        try connection.listen(Self.channel)
        return connection
    }

    private func lost(_ error: any Error) {
        let delay = backoff.next()
        retryAt = ContinuousClock.now + delay
        log.enter(
            .listener, "lost", "the listening connection is lost: reconnecting with backoff; sweeps go on meanwhile",
            [("error", "\(error)"), ("retry_in_seconds", String(format: "%.1f", delay.seconds))], level: .warning)
    }
}

/// Waits that grow after each failure (0.5 s, doubling, at most 30 s) and start again after a success.
struct ReconnectBackoff {
    static let first: Duration = .milliseconds(500)
    static let longest: Duration = .seconds(30)
    private var current: Duration?

    /// The wait before the next try.
    mutating func next() -> Duration {
        let delay = current.map { min($0 * 2, Self.longest) } ?? Self.first
        current = delay
        return delay
    }

    mutating func reset() { current = nil }
}

/// The follower's log of state changes: each line once, when a state changes (a connection down for an hour logs
/// when it went and when it came back, not once a try).
final class FollowerLog {
    /// What a state belongs to.
    enum Part: String {
        /// The term: connecting, standby, active, reconnecting.
        case term
        case listener
        /// Attentive's answers in the passes: delivering or failing.
        case attentive
    }

    let logger: Logger
    private var states: [Part: String] = [:]

    init(logger: Logger) { self.logger = logger }

    /// Logs `message` when `part` enters `state` (not when it is already there).
    func enter(
        _ part: Part, _ state: String, _ message: String, _ fields: [(String, String)] = [], level: Logger.Level = .info
    ) {
        guard states[part] != state else { return }
        states[part] = state
        logger.log(level, message, [("follower", part.rawValue + ":" + state)] + fields)
    }
}
