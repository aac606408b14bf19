import Foundation

/// Everything that shapes how the simulator answers: credentials, rate limits, latency, faults and bulk timing.
///
/// Decoding accepts partial JSON: every key is optional and missing keys take the defaults below,
/// so `POST /__simulator/config` can send only what it changes (a missing `apiKey` keeps the current key).
public struct SimulatorConfiguration: Sendable, Codable, Equatable {
    /// The bearer token the API endpoints accept.
    public var apiKey: String
    /// Keys that authenticate but lack permission: requests with them get 403.
    public var forbiddenKeys: [String] = []
    /// Port to bind on 127.0.0.1; 0 picks an ephemeral port. Only read by `start()`.
    public var port: UInt16 = 0
    /// Requests per second admitted for `/v1/attributes/custom` per API key (and per method); `nil` is unlimited.
    public var rateLimitPerSecond: Int? = nil
    /// Requests per second admitted for each bulk endpoint per API key; `nil` is unlimited.
    public var bulkRateLimitPerSecond: Int? = nil
    /// When set, 429 responses carry `Retry-After: <seconds>` (the real API does not document one).
    public var retryAfterSeconds: Int? = nil
    /// Delay added before answering each API request.
    public var latencyMilliseconds: Int = 0
    /// Extra uniformly random delay in `0...latencyJitterMilliseconds`, drawn from a generator seeded by `seed`.
    public var latencyJitterMilliseconds: Int = 0
    /// Injected failures.
    public var faults: FaultMix = FaultMix()
    /// How long a bulk job stays `IN_PROGRESS` before it completes and its records are applied.
    public var bulkCompletionDelayMilliseconds: Int = 200
    /// How long a deletion request (`POST /v1/privacy/delete-request`) stays unprocessed; once processed, the
    /// subject's profile and accepted events are forgotten. Attentive takes days; 0 processes at once.
    public var privacyProcessingDelayMilliseconds: Int = 0
    /// Seed of the fault and jitter generators; they restart from it whenever the configuration is replaced.
    public var seed: UInt64 = 1
    /// The status of an accepted `POST /v1/attributes/custom` (the real API answers 200; any 2xx is legal HTTP).
    /// 204 is sent without a body, other statuses with an empty one.
    public var successStatus: Int = 200

    /// A configuration with the given key and everything else off.
    public init(apiKey: String) {
        self.apiKey = apiKey
    }

    private enum CodingKeys: String, CodingKey {
        case apiKey, forbiddenKeys, port, rateLimitPerSecond, bulkRateLimitPerSecond, retryAfterSeconds
        case latencyMilliseconds, latencyJitterMilliseconds, faults, bulkCompletionDelayMilliseconds, seed
        case successStatus, privacyProcessingDelayMilliseconds
    }

    /// Decodes a possibly partial configuration; missing keys take their defaults (`apiKey` defaults to "").
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        apiKey = try container.decodeIfPresent(String.self, forKey: .apiKey) ?? ""
        forbiddenKeys = try container.decodeIfPresent([String].self, forKey: .forbiddenKeys) ?? []
        port = try container.decodeIfPresent(UInt16.self, forKey: .port) ?? 0
        rateLimitPerSecond = try container.decodeIfPresent(Int.self, forKey: .rateLimitPerSecond)
        bulkRateLimitPerSecond = try container.decodeIfPresent(Int.self, forKey: .bulkRateLimitPerSecond)
        retryAfterSeconds = try container.decodeIfPresent(Int.self, forKey: .retryAfterSeconds)
        latencyMilliseconds = try container.decodeIfPresent(Int.self, forKey: .latencyMilliseconds) ?? 0
        latencyJitterMilliseconds = try container.decodeIfPresent(Int.self, forKey: .latencyJitterMilliseconds) ?? 0
        faults = try container.decodeIfPresent(FaultMix.self, forKey: .faults) ?? FaultMix()
        bulkCompletionDelayMilliseconds =
            try container.decodeIfPresent(Int.self, forKey: .bulkCompletionDelayMilliseconds) ?? 200
        seed = try container.decodeIfPresent(UInt64.self, forKey: .seed) ?? 1
        successStatus = try container.decodeIfPresent(Int.self, forKey: .successStatus) ?? 200
        privacyProcessingDelayMilliseconds =
            try container.decodeIfPresent(Int.self, forKey: .privacyProcessingDelayMilliseconds) ?? 0
    }

    /// The same configuration with the API key and forbidden keys masked, safe to print or serve.
    public var redacted: SimulatorConfiguration {
        var copy = self
        copy.apiKey = apiKey.isEmpty ? "" : "<redacted>"
        copy.forbiddenKeys = forbiddenKeys.map { _ in "<redacted>" }
        return copy
    }
}
