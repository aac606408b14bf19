import Foundation

/// Probabilities of injected failures for API requests. Each API request draws one number from the seeded generator
/// and gets at most one fault; rates are taken in declaration order and clamped so that their sum is at most 1.
///
/// The connection faults happen after the whole request has been read and before anything is answered, the way a
/// proxy or load balancer drops a connection: `dropConnectionRate` (a plain `close`), `shutdownAfterRequestRate`
/// (`shutdown(SHUT_RDWR)`, then close), `resetConnectionRate` (an RST) and `halfOpenRate` (never answered, never
/// closed). `idleCloseSeconds` closes keep-alive connections left idle, as a load balancer's idle timeout does.
public struct FaultMix: Sendable, Codable, Equatable {
    /// 500 with a JSON body.
    public var internalErrorRate: Double = 0
    /// 502 with an HTML page, as a proxy in front of the API would send.
    public var htmlErrorRate: Double = 0
    /// Spurious 429 although the rate limit was respected.
    public var tooManyRequestsRate: Double = 0
    /// The request is read but never answered; the connection is closed after `hangSeconds` or when the client
    /// gives up, whichever comes first.
    public var timeoutRate: Double = 0
    /// The connection is closed without an answer: a plain `close(2)`, so the client reads EOF (a FIN).
    public var dropConnectionRate: Double = 0
    /// The request is processed normally (values are stored) but the success answer has a non-JSON body.
    public var unexpectedBodyRate: Double = 0
    /// The request is not processed; the answer is a 200 head and a chunked body that never ends (a chunk every
    /// 100 ms) until `hangSeconds` pass or the client gives up.
    public var endlessBodyRate: Double = 0
    /// The request is read, then the connection is shut down in both directions (`shutdown(SHUT_RDWR)`) and closed
    /// without an answer: the client reads EOF.
    public var shutdownAfterRequestRate: Double = 0
    /// The request is read, then the connection is reset: `SO_LINGER` {on, 0 s} and `close`, so the kernel sends an
    /// RST and the client's next read fails with `ECONNRESET`.
    public var resetConnectionRate: Double = 0
    /// The request is read and never answered, and the server's side stays open even after the client closes its
    /// own (a peer that went away without a word); no thread waits on it. The connection is closed after
    /// `hangSeconds`, or when the simulator stops.
    public var halfOpenRate: Double = 0
    /// When set, a keep-alive connection that stays idle this many seconds after an answer is closed by the server
    /// (a FIN, as a load balancer's idle timeout does); a request arriving meanwhile keeps it. `nil`: never.
    public var idleCloseSeconds: Double? = nil
    /// The share of answers after which `idleCloseSeconds` applies, drawn from a generator of its own (seeded by
    /// the configuration's `seed`) so that it does not shift the request faults; 1 (every answer) by default.
    public var idleCloseRate: Double = 1
    /// Longest time a `timeoutRate` request holds its connection, an `endlessBodyRate` answer lasts, and a
    /// `halfOpenRate` connection stays open.
    public var hangSeconds: Int = 30
    /// The request is processed normally (values stored, events kept) but answered 500: the client cannot tell it
    /// was accepted, as when a server or proxy fails after the write. A client that retries sends it twice.
    public var acceptedThenErrorRate: Double = 0
    /// Emails or phones whose requests (v1 attributes and events) or records (bulk) are rejected with a
    /// 400-style error.
    public var badIdentities: [String] = []
    /// The status of the answers to those requests (v1 attributes and events): 400 by default (a refusal of the
    /// content); a test of a failure that is not a refusal takes another 4xx, such as 404.
    public var rejectionStatus: Int = 400
    /// The message of those 400 answers (v1) and failed records (bulk results) instead of the default one (any
    /// text, control characters included).
    public var rejectionMessage: String? = nil
    /// Custom event types created by another app (Attentive: "Custom events must be triggered using the same custom
    /// app that originally created them"): `POST /v1/events/custom` answers 403 with a JSON message for an event of
    /// one of them, while the key works everywhere else (`GET /v1/me` answers 200).
    public var foreignEventTypes: [String] = []

    /// No faults.
    public init() {}

    private enum CodingKeys: String, CodingKey {
        case internalErrorRate, htmlErrorRate, tooManyRequestsRate, timeoutRate, dropConnectionRate
        case unexpectedBodyRate, hangSeconds, badIdentities, endlessBodyRate, rejectionMessage
        case shutdownAfterRequestRate, resetConnectionRate, halfOpenRate, idleCloseSeconds, idleCloseRate
        case acceptedThenErrorRate, rejectionStatus, foreignEventTypes
    }

    /// Decodes a possibly partial fault mix; missing keys take their defaults.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        internalErrorRate = try container.decodeIfPresent(Double.self, forKey: .internalErrorRate) ?? 0
        htmlErrorRate = try container.decodeIfPresent(Double.self, forKey: .htmlErrorRate) ?? 0
        tooManyRequestsRate = try container.decodeIfPresent(Double.self, forKey: .tooManyRequestsRate) ?? 0
        timeoutRate = try container.decodeIfPresent(Double.self, forKey: .timeoutRate) ?? 0
        dropConnectionRate = try container.decodeIfPresent(Double.self, forKey: .dropConnectionRate) ?? 0
        unexpectedBodyRate = try container.decodeIfPresent(Double.self, forKey: .unexpectedBodyRate) ?? 0
        hangSeconds = try container.decodeIfPresent(Int.self, forKey: .hangSeconds) ?? 30
        badIdentities = try container.decodeIfPresent([String].self, forKey: .badIdentities) ?? []
        endlessBodyRate = try container.decodeIfPresent(Double.self, forKey: .endlessBodyRate) ?? 0
        rejectionMessage = try container.decodeIfPresent(String.self, forKey: .rejectionMessage)
        rejectionStatus = try container.decodeIfPresent(Int.self, forKey: .rejectionStatus) ?? 400
        shutdownAfterRequestRate = try container.decodeIfPresent(Double.self, forKey: .shutdownAfterRequestRate) ?? 0
        resetConnectionRate = try container.decodeIfPresent(Double.self, forKey: .resetConnectionRate) ?? 0
        halfOpenRate = try container.decodeIfPresent(Double.self, forKey: .halfOpenRate) ?? 0
        idleCloseSeconds = try container.decodeIfPresent(Double.self, forKey: .idleCloseSeconds)
        idleCloseRate = try container.decodeIfPresent(Double.self, forKey: .idleCloseRate) ?? 1
        acceptedThenErrorRate = try container.decodeIfPresent(Double.self, forKey: .acceptedThenErrorRate) ?? 0
        foreignEventTypes = try container.decodeIfPresent([String].self, forKey: .foreignEventTypes) ?? []
    }

    /// True when any fault rate is above zero, a bad identity or a foreign event type is listed or idle connections
    /// are closed.
    public var isActive: Bool {
        internalErrorRate > 0 || htmlErrorRate > 0 || tooManyRequestsRate > 0 || timeoutRate > 0
            || dropConnectionRate > 0 || unexpectedBodyRate > 0 || endlessBodyRate > 0 || !badIdentities.isEmpty
            || !foreignEventTypes.isEmpty
            || shutdownAfterRequestRate > 0 || resetConnectionRate > 0 || halfOpenRate > 0
            || acceptedThenErrorRate > 0
            || (idleCloseSeconds != nil && idleCloseRate > 0)
    }
}
