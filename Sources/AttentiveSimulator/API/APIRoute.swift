import Foundation

/// The API endpoints the simulator imitates.
enum APIRoute: Equatable {
    case postCustomAttributes
    case postCustomEvents
    case getCustomAttributes
    case me
    case submitBulk
    case bulkStatus(id: String)
    case fileDeleteRequest
    case deleteRequestStatus(id: String)

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
        case "/v1/privacy/delete-request":
            return method == "POST" ? .success(.fileDeleteRequest) : .failure(MethodNotAllowed(allowed: "POST"))
        default:
            if let id = lastSegment(of: path, under: "/v2/bulk/job/") {
                return method == "GET" ? .success(.bulkStatus(id: id)) : .failure(MethodNotAllowed(allowed: "GET"))
            }
            if let id = lastSegment(of: path, under: "/v1/privacy/delete-request/") {
                return method == "GET"
                    ? .success(.deleteRequestStatus(id: id)) : .failure(MethodNotAllowed(allowed: "GET"))
            }
            return nil
        }
    }

    /// The one non-empty path segment after `prefix` (a resource id), or nil.
    private static func lastSegment(of path: String, under prefix: String) -> String? {
        guard path.hasPrefix(prefix), path.count > prefix.count else { return nil }
        let id = String(path.dropFirst(prefix.count))
        return id.contains("/") ? nil : id
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
        case .fileDeleteRequest: return "POST /v1/privacy/delete-request"
        case .deleteRequestStatus: return "GET /v1/privacy/delete-request"
        }
    }

    var limitKind: LimitKind {
        switch self {
        case .postCustomAttributes, .getCustomAttributes, .postCustomEvents, .fileDeleteRequest, .deleteRequestStatus:
            return .customAttributes
        case .submitBulk, .bulkStatus: return .bulk
        case .me: return .none
        }
    }
}

/// A method the path does not support.
struct MethodNotAllowed: Error, Equatable {
    var allowed: String
}
