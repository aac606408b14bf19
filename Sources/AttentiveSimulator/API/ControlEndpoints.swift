import Foundation

/// The unauthenticated `/__simulator/...` endpoints used by tests, demos and benchmarks.
extension SimulatorEngine {
    /// Answers a control request (never rate limited, faulted, delayed or counted).
    func control(_ request: HTTPRequest, path: String) -> ServerResponse {
        switch (request.method, path) {
        case ("GET", "/__simulator/health"):
            return .json(200, .makeObject([("status", .string("ok"))]))
        case ("GET", "/__simulator/accepted"):
            return .encoded(200, profiles.all())
        case ("GET", "/__simulator/events"):
            return .json(200, .array(events.all()))
        case ("GET", "/__simulator/event-receipts"):
            return .json(200, events.receipts())
        case ("GET", "/__simulator/privacy-requests"):
            return .encoded(200, privacy.all())
        case ("GET", "/__simulator/stats"):
            return .encoded(200, statisticsSnapshot())
        case ("POST", "/__simulator/bulk/complete"):
            return .json(200, .makeObject([("completed", .number(String(bulk.completeAll())))]))
        case ("POST", "/__simulator/reset"):
            reset()
            return .json(200, .object([]))
        case ("GET", "/__simulator/config"):
            return .encoded(200, configuration.redacted)
        case ("POST", "/__simulator/config"):
            return replaceConfiguration(request.body)
        default:
            let prefix = "/__simulator/bulk-results/"
            let suffix = ".jsonl"
            if request.method == "GET", path.hasPrefix(prefix), path.hasSuffix(suffix),
                path.count > prefix.count + suffix.count
            {
                let id = String(path.dropFirst(prefix.count).dropLast(suffix.count))
                guard let results = bulk.results(id) else {
                    return .error(404, "No results for bulk job \(id) (unknown or not completed)")
                }
                return ServerResponse(status: 200, headers: [("Content-Type", "application/jsonl")], body: results)
            }
            return .error(404, "Not Found: \(request.method) \(path)")
        }
    }

    /// `POST /__simulator/config`: a (partial) `SimulatorConfiguration` JSON replaces limits and faults.
    /// A missing or empty `apiKey` keeps the current key; `port` is ignored while running.
    private func replaceConfiguration(_ body: [UInt8]) -> ServerResponse {
        let current = configuration
        var replacement: SimulatorConfiguration
        do {
            replacement = try JSONDecoder().decode(SimulatorConfiguration.self, from: Data(body))
        } catch {
            return .error(400, "Invalid configuration: \(error)")
        }
        if replacement.apiKey.isEmpty { replacement.apiKey = current.apiKey }
        replacement.port = current.port
        update(configuration: replacement)
        return .encoded(200, replacement.redacted)
    }
}
