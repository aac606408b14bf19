import Foundation

/// A loopback HTTP/1.1 server imitating the parts of Attentive's REST API that the referral sync job uses:
/// `POST`/`GET /v1/attributes/custom`, `GET /v1/me`, `POST /v2/bulk/user/attributes` and
/// `GET /v2/bulk/job/{id}`, with configurable rate limits, latency and faults, plus unauthenticated
/// `/__simulator/...` control endpoints (`accepted`, `stats`, `reset`, `config`, `health`, `bulk-results/{id}.jsonl`).
///
/// ```swift
/// let simulator = AttentiveSimulator(configuration: SimulatorConfiguration(apiKey: "test-key"))
/// try simulator.start()
/// defer { simulator.stop() }
/// // point the client at simulator.baseURL
/// ```
public final class AttentiveSimulator: Sendable {
    private let engine: SimulatorEngine
    private let server = Locked<HTTPServer?>(nil)
    private let boundPort = Locked<UInt16>(0)

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
            let started = try HTTPServer(port: port) { request in engine.handle(request) }
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

    /// Counters since start or the last reset.
    public func statistics() -> SimulatorStatistics {
        engine.statisticsSnapshot()
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
