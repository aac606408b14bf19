import AttentiveSimulator
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// An HTTP answer as the tests inspect it.
public struct TestResponse: Sendable {
    public var status: Int
    /// Header fields, names lowercased.
    public var headers: [String: String]
    public var body: Data

    public var text: String { String(decoding: body, as: UTF8.self) }

    public func header(_ name: String) -> String? {
        headers.first(where: { $0.key.caseInsensitiveCompare(name) == .orderedSame })?.value
    }

    /// The body as a JSON object.
    public func jsonObject() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw HarnessError.unexpectedBody(text)
        }
        return object
    }

    /// The body as a JSON array of objects.
    public func jsonArray() throws -> [[String: Any]] {
        guard let array = try JSONSerialization.jsonObject(with: body) as? [[String: Any]] else {
            throw HarnessError.unexpectedBody(text)
        }
        return array
    }
}

/// Why a harness call could not give an answer.
public enum HarnessError: Error {
    case unexpectedBody(String)
    case notHTTP
    case timedOut(String)
}

/// A started simulator on an ephemeral loopback port plus a URLSession pointed at it, the one way tests start a
/// simulator in-process. Call `shutdown()` when done.
public final class SimulatorHarness: Sendable {
    /// The key the simulator accepts unless the test gives another.
    public static let apiKey = "test-key"

    public let simulator: AttentiveSimulator
    public let session: URLSession

    /// Starts a simulator accepting `apiKey`, configured further by `configure`.
    public init(
        apiKey: String = SimulatorHarness.apiKey, _ configure: (inout SimulatorConfiguration) -> Void = { _ in }
    )
        throws
    {
        var configuration = SimulatorConfiguration(apiKey: apiKey)
        configure(&configuration)
        simulator = AttentiveSimulator(configuration: configuration)
        try simulator.start()
        let sessionConfiguration = URLSessionConfiguration.ephemeral
        sessionConfiguration.timeoutIntervalForRequest = 30
        sessionConfiguration.httpMaximumConnectionsPerHost = 64
        session = URLSession(configuration: sessionConfiguration)
    }

    /// Ends the session and stops the simulator.
    public func shutdown() {
        session.finishTasksAndInvalidate()
        simulator.stop()
    }

    /// Sends one request. `key` nil sends no Authorization header.
    public func send(
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

    public func send(_ request: URLRequest) async throws -> TestResponse {
        let (data, response) = try await session.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw HarnessError.notHTTP }
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
        return TestResponse(status: http.statusCode, headers: headers, body: data)
    }

    /// `POST /v1/attributes/custom` with the given JSON body.
    public func postAttributes(_ json: String, key: String? = SimulatorHarness.apiKey) async throws -> TestResponse {
        try await send("POST", "/v1/attributes/custom", body: json, key: key)
    }

    /// Polls a bulk job until it reports COMPLETED (at most `seconds`).
    public func waitForBulkJob(_ id: String, seconds: Double = 20) async throws -> [String: Any] {
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
public func customAttributesBody(email: String? = nil, phone: String? = nil, properties: String = #"{"tier":"gold"}"#)
    -> String
{
    var user: [String] = []
    if let email { user.append(#""email":"\#(email)""#) }
    if let phone { user.append(#""phone":"\#(phone)""#) }
    return #"{"properties":\#(properties),"user":{\#(user.joined(separator: ","))}}"#
}
