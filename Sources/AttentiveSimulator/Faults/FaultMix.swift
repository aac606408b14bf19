import Foundation

/// Probabilities of injected failures for API requests. Each API request draws one number from the seeded generator
/// and gets at most one fault; rates are taken in declaration order and clamped so that their sum is at most 1.
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
    /// The connection is closed without an answer.
    public var dropConnectionRate: Double = 0
    /// The request is processed normally (values are stored) but the success answer has a non-JSON body.
    public var unexpectedBodyRate: Double = 0
    /// The request is not processed; the answer is a 200 head and a chunked body that never ends (a chunk every
    /// 100 ms) until `hangSeconds` pass or the client gives up.
    public var endlessBodyRate: Double = 0
    /// Longest time a `timeoutRate` request holds its connection, and an `endlessBodyRate` answer lasts.
    public var hangSeconds: Int = 30
    /// Emails or phones whose requests (v1) or records (bulk) are rejected with a 400-style error.
    public var badIdentities: [String] = []
    /// The message of those 400 answers (v1) and failed records (bulk results) instead of the default one (any
    /// text, control characters included).
    public var rejectionMessage: String? = nil

    /// No faults.
    public init() {}

    private enum CodingKeys: String, CodingKey {
        case internalErrorRate, htmlErrorRate, tooManyRequestsRate, timeoutRate, dropConnectionRate
        case unexpectedBodyRate, hangSeconds, badIdentities, endlessBodyRate, rejectionMessage
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
    }

    /// True when any fault rate is above zero or a bad identity is listed.
    public var isActive: Bool {
        internalErrorRate > 0 || htmlErrorRate > 0 || tooManyRequestsRate > 0 || timeoutRate > 0
            || dropConnectionRate > 0 || unexpectedBodyRate > 0 || endlessBodyRate > 0 || !badIdentities.isEmpty
    }
}
