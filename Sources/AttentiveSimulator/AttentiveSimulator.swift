public import Foundation
import Synchronization

/// A loopback HTTP/1.1 server imitating the parts of Attentive's REST API that the referral sync job uses.
///
/// API endpoints (all need `Authorization: Bearer <apiKey>`; 401 otherwise, 403 for `forbiddenKeys`):
/// - `POST /v1/attributes/custom` (`CustomAttributesRequest`): 200 with an empty body, or 400 `{"message": ...}`.
/// - `GET /v1/attributes/custom?email=` / `?phone=` (exactly one): `[{"name": ..., "value": ...}]`, 404 if unknown.
///   Query values are form-decoded, so a phone's `+` must be sent as `%2B` (an unencoded `+` gives 400).
/// - `GET /v1/me` (and `/v2/me`): a `GetMeResponseDto`.
/// - `POST /v2/bulk/user/attributes` (`UserAttributes`, 1...256 users): 202 `{"message", "batchJobId"}`.
/// - `GET /v2/bulk/job/{id}`: `{"bulkJobId", "status": "IN_PROGRESS"|"COMPLETED", "totalRecords", "url"?}`.
/// - `POST /v1/privacy/delete-request` (`PrivacyRequestAddDeleteEventDto`: `subjectEmail`, `subjectPhone` or
///   `clientUserId`, optional `requestMsg`): 200 `{"id", "processed": false, "type": "DELETE"}`, or 400 `{"error"}`.
/// - `GET /v1/privacy/delete-request/{id}`: `PrivacyRequestDto`, `processed` once
///   `privacyProcessingDelayMilliseconds` has passed; from then on the subject's profile and events are forgotten.
///
/// Every API answer carries `x-ratelimit-limit` and `x-ratelimit-remaining` (1,000,000 when no limit is set).
/// Pipeline: authenticate → rate limit (fixed 1-second windows per endpoint, method and key; see `FixedWindowLimiter`)
/// → draw one fault → validate → apply → wait the latency → answer. Faulted requests never change the store.
/// Some faults end the connection instead of answering (see `FaultMix`): a plain close, `shutdown(SHUT_RDWR)`, an
/// RST, a half-open connection that is never answered, or an idle keep-alive connection closed after N seconds.
///
/// Bulk jobs stay IN_PROGRESS for `bulkCompletionDelayMilliseconds`, then complete: valid records are applied
/// and `GET /__simulator/bulk-results/{id}.jsonl` serves one line per input record, in input order:
/// `{"index": n, "identifiers": {...as submitted...}, "status": "SUCCESS"|"FAILURE", "error": "..."}` (`error` only
/// on failure). The v2 spec documents a JSON Lines results file but not its fields, so this shape is our own.
///
/// Unauthenticated control endpoints: `GET /__simulator/accepted` (profiles as `[SimulatedProfile]` JSON),
/// `GET /__simulator/privacy-requests` (`[SimulatedPrivacyRequest]`, unmasked, in filing order),
/// `GET /__simulator/stats` (`SimulatorStatistics`), `POST /__simulator/reset`, `GET`/`POST /__simulator/config`
/// (a partial `SimulatorConfiguration`; keys are redacted in answers), `GET /__simulator/health`.
///
/// ```swift
/// let simulator = AttentiveSimulator(configuration: SimulatorConfiguration(apiKey: "test-key"))
/// try simulator.start()
/// defer { simulator.stop() }
/// // point the client at simulator.baseURL
/// ```
public final class AttentiveSimulator: Sendable {
    private let engine: SimulatorEngine
    private let server = Mutex<HTTPServer?>(nil)
    private let boundPort = Mutex<UInt16>(0)

    /// Creates a stopped simulator.
    public init(configuration: SimulatorConfiguration) {
        engine = SimulatorEngine(configuration: configuration)
        boundPort.withLock { $0 = configuration.port }
    }

    deinit {
        stop()
    }

    /// Binds 127.0.0.1 on the configured port (0 = ephemeral) and serves on background threads.
    /// - Throws: `SimulatorError.portInUse` when the port is taken, `.alreadyRunning` when already started,
    ///   `.socketFailure` for other socket errors.
    public func start() throws {
        try server.withLock { server in
            guard server == nil else { throw SimulatorError.alreadyRunning }
            let port = engine.configuration.port
            let engine = self.engine
            let started = try HTTPServer(port: port, idleClosed: { engine.statistics.recordFault(.idleClose) }) {
                request in engine.handle(request)
            }
            engine.port = started.port
            boundPort.withLock { $0 = started.port }
            started.start()
            server = started
        }
    }

    /// The bound port after `start()` (the configured port before).
    public var port: UInt16 {
        boundPort.withLock { $0 }
    }

    /// `http://127.0.0.1:<port>`.
    public var baseURL: URL {
        var components = URLComponents()
        components.scheme = "http"
        components.host = "127.0.0.1"
        components.port = Int(port)
        guard let url = components.url else { preconditionFailure("a loopback URL is always valid") }
        return url
    }

    /// Whether the simulator is serving.
    public var isRunning: Bool {
        server.withLock { $0 != nil }
    }

    /// Closes the listener and every open connection (including hung ones). Idempotent; `start()` may be called
    /// again afterwards. Profiles, jobs and counters are kept.
    public func stop() {
        let running = server.withLock { server -> HTTPServer? in
            defer { server = nil }
            return server
        }
        running?.stop()
    }

    /// The current configuration.
    public var configuration: SimulatorConfiguration {
        engine.configuration
    }

    /// Replaces limits, faults, latency and keys at run time; the fault generators restart from its `seed`.
    /// The port of a running simulator does not change.
    public func update(configuration: SimulatorConfiguration) {
        engine.update(configuration: configuration)
    }

    /// The profile owning `email` (exact match).
    public func profile(email: String) -> SimulatedProfile? {
        engine.profiles.profile(email: email)
    }

    /// The profile owning `phone` (exact match, E.164).
    public func profile(phone: String) -> SimulatedProfile? {
        engine.profiles.profile(phone: phone)
    }

    /// Every profile, sorted by email then phone; the same list `GET /__simulator/accepted` returns.
    public func profiles() -> [SimulatedProfile] {
        engine.profiles.all()
    }

    /// Every custom event accepted (`POST /v1/events/custom`), in arrival order, duplicates included: each body as
    /// compact JSON text, keys in the order they were sent (the format of `/__simulator/events`).
    public func acceptedEvents() -> [String] {
        engine.events.all().map { $0.serialized() }
    }

    /// Every deletion request filed (`POST /v1/privacy/delete-request`), in order, identities unmasked; the list
    /// `GET /__simulator/privacy-requests` returns.
    public func privacyRequests() -> [SimulatedPrivacyRequest] {
        engine.privacy.all()
    }

    /// Counters since start or the last reset.
    public func statistics() -> SimulatorStatistics {
        engine.statisticsSnapshot()
    }

    /// Completes every bulk job still in progress now (their records are applied and their results served),
    /// whatever `bulkCompletionDelayMilliseconds` said; the same as `POST /__simulator/bulk/complete`.
    /// - Returns: How many jobs it completed.
    @discardableResult
    public func completeBulkJobs() -> Int {
        engine.bulk.completeAll()
    }

    /// Clears profiles, bulk jobs, rate-limit windows and counters, and restarts the fault generators.
    public func reset() {
        engine.reset()
    }

    /// JSON of `profiles()` (sorted keys), the format of `/__simulator/accepted` and of the executable's dump file.
    public func acceptedJSON() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return try encoder.encode(profiles())
    }
}
