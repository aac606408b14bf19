import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Builds the `URLRequest`s of the Attentive endpoints the client uses.
struct RequestFactory: Sendable {
    /// `baseURL` with any trailing slash or `/v1`/`/v2` removed.
    let root: URL
    private let apiKey: String

    init(baseURL: URL, apiKey: String) {
        self.apiKey = apiKey
        var text = baseURL.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        for suffix in ["/v1", "/v2"] where text.hasSuffix(suffix) {
            text.removeLast(suffix.count)
        }
        root = URL(string: text) ?? baseURL
    }

    /// Characters left unescaped in query values and path segments (RFC 3986 unreserved), so `+`
    /// in a phone number is sent as `%2B`, as Attentive requires.
    private static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
    )

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    /// `root` + `path` (already escaped) + query.
    func url(path: String, query: [(String, String)] = []) -> URL? {
        var text = root.absoluteString + path
        if !query.isEmpty {
            text += "?" + query.map { "\(Self.escape($0.0))=\(Self.escape($0.1))" }.joined(separator: "&")
        }
        return URL(string: text)
    }

    /// A request to `url`; the key is attached only when `url` is on the API's own scheme, host and
    /// port (a results file on a storage host never receives it).
    func request(method: String, url: URL, body: Data? = nil) -> URLRequest {
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        request.setValue("referral-sync-attentive/1", forHTTPHeaderField: "User-Agent")
        if isAPIHost(url) {
            request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization")
        }
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        return request
    }

    /// Whether `url` shares the API root's scheme, host and port.
    func isAPIHost(_ url: URL) -> Bool {
        url.scheme?.lowercased() == root.scheme?.lowercased()
            && url.host?.lowercased() == root.host?.lowercased()
            && effectivePort(url) == effectivePort(root)
    }

    private func effectivePort(_ url: URL) -> Int? {
        if let port = url.port { return port }
        switch url.scheme?.lowercased() {
        case "https": return 443
        case "http": return 80
        default: return nil
        }
    }
}
