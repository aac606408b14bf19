import Foundation

/// The API endpoints the simulator imitates.
enum APIRoute: Equatable {
    case postCustomAttributes
    case postCustomEvents
    case getCustomAttributes
    case me
    case submitBulk
    case bulkStatus(id: String)

    /// Which configured limit applies.
    enum LimitKind {
        case customAttributes, bulk, none
    }

    /// Matches a method and path. Returns nil for unknown paths; `.failure` lists the allowed methods.
    static func match(method: String, path: String) -> Result<APIRoute, MethodNotAllowed>? {
        switch path {
        case "/v1/attributes/custom":
            if method == "POST" { return .success(.postCustomAttributes) }
            if method == "GET" { return .success(.getCustomAttributes) }
            return .failure(MethodNotAllowed(allowed: "GET, POST"))
        case "/v1/events/custom":
            return method == "POST" ? .success(.postCustomEvents) : .failure(MethodNotAllowed(allowed: "POST"))
        case "/v1/me", "/v2/me":
            return method == "GET" ? .success(.me) : .failure(MethodNotAllowed(allowed: "GET"))
        case "/v2/bulk/user/attributes":
            return method == "POST" ? .success(.submitBulk) : .failure(MethodNotAllowed(allowed: "POST"))
        default:
            let prefix = "/v2/bulk/job/"
            guard path.hasPrefix(prefix), path.count > prefix.count else { return nil }
            let id = String(path.dropFirst(prefix.count))
            guard !id.contains("/") else { return nil }
            return method == "GET" ? .success(.bulkStatus(id: id)) : .failure(MethodNotAllowed(allowed: "GET"))
        }
    }

    /// The rate-limit bucket name (per endpoint and method).
    var endpoint: String {
        switch self {
        case .postCustomAttributes: return "POST /v1/attributes/custom"
        case .postCustomEvents: return "POST /v1/events/custom"
        case .getCustomAttributes: return "GET /v1/attributes/custom"
        case .me: return "GET /me"
        case .submitBulk: return "POST /v2/bulk/user/attributes"
        case .bulkStatus: return "GET /v2/bulk/job"
        }
    }

    var limitKind: LimitKind {
        switch self {
        case .postCustomAttributes, .getCustomAttributes, .postCustomEvents: return .customAttributes
        case .submitBulk, .bulkStatus: return .bulk
        case .me: return .none
        }
    }
}

/// A method the path does not support.
struct MethodNotAllowed: Error, Equatable {
    var allowed: String
}
