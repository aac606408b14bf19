import AttentiveSimulator
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// An HTTP answer as the tests inspect it.
struct TestResponse: Sendable {
    var status: Int
    var headers: [String: String]
    var body: Data

    var text: String { String(decoding: body, as: UTF8.self) }

    func header(_ name: String) -> String? {
        headers.first(where: { $0.key.caseInsensitiveCompare(name) == .orderedSame })?.value
    }

    /// The body as a JSON object.
    func jsonObject() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw HarnessError.unexpectedBody(text)
        }
        return object
    }

    /// The body as a JSON array of objects.
    func jsonArray() throws -> [[String: Any]] {
        guard let array = try JSONSerialization.jsonObject(with: body) as? [[String: Any]] else {
            throw HarnessError.unexpectedBody(text)
        }
        return array
    }
}

enum HarnessError: Error {
    case unexpectedBody(String)
    case notHTTP
    case timedOut(String)
}

/// A started simulator plus a URLSession pointed at it. Call `shutdown()` when done.
final class SimulatorHarness: Sendable {
    static let apiKey = "test-key"

    let simulator: AttentiveSimulator
    let session: URLSession

    init(_ configure: (inout SimulatorConfiguration) -> Void = { _ in }) throws {
        var configuration = SimulatorConfiguration(apiKey: SimulatorHarness.apiKey)
        configure(&configuration)
        simulator = AttentiveSimulator(configuration: configuration)
        try simulator.start()
        let sessionConfiguration = URLSessionConfiguration.ephemeral
        sessionConfiguration.timeoutIntervalForRequest = 30
        sessionConfiguration.httpMaximumConnectionsPerHost = 64
        session = URLSession(configuration: sessionConfiguration)
    }

    func shutdown() {
        session.finishTasksAndInvalidate()
        simulator.stop()
    }

    /// Sends one request. `key` nil sends no Authorization header.
    func send(
        _ method: String, _ path: String, body: String? = nil, key: String? = SimulatorHarness.apiKey,
        timeout: TimeInterval = 30
    ) async throws -> TestResponse {
        guard let url = URL(string: simulator.baseURL.absoluteString + path) else { throw HarnessError.notHTTP }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.timeoutInterval = timeout
        if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(body.utf8)
        }
        return try await send(request)
    }

    func send(_ request: URLRequest) async throws -> TestResponse {
        let (data, response) = try await session.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw HarnessError.notHTTP }
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
        return TestResponse(status: http.statusCode, headers: headers, body: data)
    }

    /// `POST /v1/attributes/custom` with the given JSON body.
    func postAttributes(_ json: String, key: String? = SimulatorHarness.apiKey) async throws -> TestResponse {
        try await send("POST", "/v1/attributes/custom", body: json, key: key)
    }

    /// Polls a bulk job until it reports COMPLETED (at most `seconds`).
    func waitForBulkJob(_ id: String, seconds: Double = 20) async throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let status = try await send("GET", "/v2/bulk/job/\(id)")
            let object = try status.jsonObject()
            if object["status"] as? String == "COMPLETED" { return object }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        throw HarnessError.timedOut("bulk job \(id) did not complete")
    }
}

/// A body for `POST /v1/attributes/custom`.
func customAttributesBody(email: String? = nil, phone: String? = nil, properties: String = #"{"tier":"gold"}"#)
    -> String
{
    var user: [String] = []
    if let email { user.append(#""email":"\#(email)""#) }
    if let phone { user.append(#""phone":"\#(phone)""#) }
    return #"{"properties":\#(properties),"user":{\#(user.joined(separator: ","))}}"#
}
