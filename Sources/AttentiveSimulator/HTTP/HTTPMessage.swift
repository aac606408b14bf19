import Foundation

/// A parsed HTTP/1.1 request.
struct HTTPRequest: Sendable {
    /// Method in upper case as sent ("GET", "POST").
    var method: String
    /// The raw request target ("/v1/attributes/custom?email=a%40b.c").
    var target: String
    /// "HTTP/1.1" or "HTTP/1.0".
    var version: String
    /// Header fields in order; names lowercased, values trimmed.
    var headers: [(name: String, value: String)]
    /// The decoded body (chunked bodies already de-chunked).
    var body: [UInt8]

    /// The value of the first header named `name` (case-insensitive).
    func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first(where: { $0.name == lowered })?.value
    }

    /// The percent-decoded path, without the query.
    var path: String {
        let rawPath = String(target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        guard rawPath.contains("%") else { return rawPath }
        return rawPath.removingPercentEncoding ?? rawPath
    }

    /// Query parameters in order, form-decoded (`+` is a space, as in the real API: send `%2B` for a plus sign).
    var queryItems: [(name: String, value: String)] {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return [] }
        return parts[1].split(separator: "&").map { pair in
            let pieces = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = HTTPRequest.formDecode(pieces[0])
            let value = pieces.count > 1 ? HTTPRequest.formDecode(pieces[1]) : ""
            return (name, value)
        }
    }

    /// Whether the connection should stay open after answering this request.
    var wantsKeepAlive: Bool {
        let connection = header("connection")?.lowercased() ?? ""
        if version == "HTTP/1.0" { return connection.contains("keep-alive") }
        return !connection.contains("close")
    }

    private static func formDecode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}

/// An HTTP response to serialize onto a connection.
struct ServerResponse: Sendable {
    /// Status code.
    var status: Int
    /// Extra header fields (Content-Length and Connection are added when serializing).
    var headers: [(name: String, value: String)] = []
    /// Body bytes.
    var body: [UInt8] = []

    /// A response with a JSON body.
    static func json(_ status: Int, _ value: OrderedJSON) -> ServerResponse {
        ServerResponse(
            status: status, headers: [("Content-Type", "application/json")], body: value.serializedBytes())
    }

    /// A JSON error body `{"message": ...}`, the shape the simulator uses for every error.
    static func error(_ status: Int, _ message: String) -> ServerResponse {
        json(status, .makeObject([("message", .string(message))]))
    }

    /// A response with a body of the given content type.
    static func text(_ status: Int, _ text: String, contentType: String) -> ServerResponse {
        ServerResponse(status: status, headers: [("Content-Type", contentType)], body: Array(text.utf8))
    }

    /// A response whose body is an `Encodable` value as JSON with sorted keys.
    static func encoded<Value: Encodable>(_ status: Int, _ value: Value) -> ServerResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(value) else { return error(500, "could not encode response") }
        return ServerResponse(status: status, headers: [("Content-Type", "application/json")], body: Array(data))
    }

    /// Adds or replaces a header.
    mutating func setHeader(_ name: String, _ value: String) {
        let lowered = name.lowercased()
        headers.removeAll { $0.name.lowercased() == lowered }
        headers.append((name, value))
    }

    /// The wire form: status line, headers, blank line, body.
    func serialized(keepAlive: Bool) -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(ServerResponse.reasonPhrase(status))\r\n"
        for header in headers { head += "\(header.name): \(header.value)\r\n" }
        // A 204 has no body and no Content-Length (RFC 9110 8.6).
        if status != 204 { head += "Content-Length: \(body.count)\r\n" }
        head += keepAlive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n"
        var bytes = Array(head.utf8)
        if status != 204 { bytes.append(contentsOf: body) }
        return bytes
    }

    /// Standard reason phrases for the codes the simulator sends.
    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: return "Continue"
        case 200: return "OK"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 413: return "Payload Too Large"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 505: return "HTTP Version Not Supported"
        default: return "Status \(status)"
        }
    }
}

/// What the server does with a request.
enum HTTPOutcome: Sendable {
    /// Answer after waiting `delayMilliseconds`; with `idleCloseSeconds`, close a kept-alive connection when no
    /// next request starts within that time.
    case respond(ServerResponse, delayMilliseconds: Int, idleCloseSeconds: Double? = nil)
    /// Never answer; hold the connection up to `seconds` (or until the peer closes it), then close it.
    case hang(seconds: Int)
    /// Close the connection without answering (a plain `close`).
    case drop
    /// `shutdown(SHUT_RDWR)` the connection without answering, then close it.
    case shutdown
    /// Reset the connection (an RST) without answering.
    case reset
    /// Never answer and keep the connection open, not reading, for `seconds` (or until the server stops).
    case halfOpen(seconds: Int)
    /// Send a 200 head with a chunked body that never ends, up to `seconds` (or until the peer closes it).
    case endless(seconds: Int)
}
