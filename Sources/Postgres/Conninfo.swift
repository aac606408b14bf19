import CLibPQ
import Foundation

/// Checks on a libpq connection string before anything connects with it.
public enum Conninfo {
    /// Why libpq cannot parse `conninfo` (key=value form or `postgresql://` URI), or `nil` when it can.
    ///
    /// The message is libpq's, with every quoted fragment of the string removed except connection keywords,
    /// because the fragment libpq quotes may be part of a password.
    public static func parseProblem(_ conninfo: String) -> String? {
        var error: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &error) else {
            defer { PQfreemem(error) }
            let message = error.map { String(cString: $0) } ?? "libpq could not parse it"
            return redactQuotedFragments(message.trimmingTrailingWhitespace())
        }
        PQconninfoFree(options)
        return nil
    }

    /// The connection keywords libpq knows (`host`, `port`, `dbname`, …).
    static let keywords: Set<String> = {
        var names: Set<String> = []
        guard let defaults = PQconndefaults() else { return names }
        defer { PQconninfoFree(defaults) }
        var option = defaults
        while let keyword = option.pointee.keyword {
            names.insert(String(cString: keyword))
            option += 1
        }
        return names
    }()

    /// Replaces `"fragment"` by `"…"` unless the fragment is a connection keyword or a single character.
    static func redactQuotedFragments(_ message: String) -> String {
        let parts = message.split(separator: "\"", omittingEmptySubsequences: false)
        guard parts.count >= 3 else { return message }
        var result = ""
        for (index, part) in parts.enumerated() {
            if index > 0 { result += "\"" }
            let quoted = index % 2 == 1 && index < parts.count - 1
            if quoted, part.count > 1, !keywords.contains(String(part)) {
                result += "…"
            } else {
                result += part
            }
        }
        return result
    }

    /// The password in a conninfo string or URI, and `PGPASSWORD`, so error messages can be scrubbed of them.
    static func secrets(in conninfo: String) -> [String] {
        var found: [String] = []
        if let password = ProcessInfo.processInfo.environment["PGPASSWORD"], !password.isEmpty {
            found.append(password)
        }
        if conninfo.hasPrefix("postgres://") || conninfo.hasPrefix("postgresql://"),
            let components = URLComponents(string: conninfo)
        {
            if let password = components.password, !password.isEmpty {
                found.append(password)
                if let decoded = password.removingPercentEncoding { found.append(decoded) }
            }
            for item in components.queryItems ?? [] where item.name == "password" {
                if let value = item.value, !value.isEmpty { found.append(value) }
            }
        } else {
            // key=value form: password=secret or password='se cret'
            let pattern = #"password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)"#
            if let regex = try? NSRegularExpression(pattern: pattern) {
                let range = NSRange(conninfo.startIndex..., in: conninfo)
                for match in regex.matches(in: conninfo, range: range) {
                    guard let valueRange = Range(match.range(at: 1), in: conninfo) else { continue }
                    var value = String(conninfo[valueRange])
                    if value.hasPrefix("'") && value.hasSuffix("'") && value.count >= 2 {
                        value = String(value.dropFirst().dropLast())
                    }
                    if !value.isEmpty { found.append(value) }
                }
            }
        }
        return found
    }
}
