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

    /// The options libpq reads from `conninfo` (keyword and value, in libpq's order), or `nil` when it cannot
    /// parse it. libpq's own parser: quoting, `\'` and `\\` escapes, `key = value` spacing, a URI's
    /// percent-encoding and its `?password=` are read exactly as a connection reads them.
    static func parsedOptions(_ conninfo: String) -> [(keyword: String, value: String)]? {
        var error: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &error) else {
            PQfreemem(error)
            return nil
        }
        defer { PQconninfoFree(options) }
        var found: [(keyword: String, value: String)] = []
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { found.append((String(cString: keyword), String(cString: value))) }
            option += 1
        }
        return found
    }

    /// The shortest secret searched for in free text.
    public static let minimumFindableLength = 4

    /// Every password a connection made from `conninfo` could use, the one place they are found: the
    /// `password` libpq reads from the string (either form) and `PGPASSWORD`. Each comes with the spellings it
    /// may have in text (as written in a quoted conninfo value, percent-encoded in a URI), so a redaction finds
    /// it wherever it was copied. A passfile is never read: libpq reads it itself, and nothing of it is output.
    /// - Parameter environment: Where `PGPASSWORD` is read (the process environment, which libpq reads).
    public static func secrets(
        in conninfo: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> [String] {
        var passwords: [String] = []
        if let password = environment["PGPASSWORD"], !password.isEmpty { passwords.append(password) }
        let parsed = conninfo.isEmpty ? nil : parsedOptions(conninfo)
        for (keyword, value) in parsed ?? [] where keyword == "password" && !value.isEmpty { passwords.append(value) }
        var spellings: [String] = []
        for password in passwords {
            spellings.append(password)
            let escaped = password.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "'", with: "\\'")
            spellings.append(escaped)
            if let encoded = password.addingPercentEncoding(withAllowedCharacters: .urlPasswordAllowed) {
                spellings.append(encoded)
            }
            if let encoded = password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) {
                spellings.append(encoded)
            }
        }
        var unique: [String] = []
        // A spelling under four characters cannot be replaced in free text without garbling every line (a
        // password `x`); ``redacted(_:)`` still removes it from a connection string, and libpq never prints one.
        for spelling in spellings where spelling.count >= minimumFindableLength && !unique.contains(spelling) {
            unique.append(spelling)
        }
        // The longest first, so a redaction never leaves the tail of a longer spelling behind.
        return unique.sorted { $0.count > $1.count }
    }

    /// `conninfo` as it may be shown (the run history's arguments): `nil` when libpq reads no password from
    /// it, else the same connection rewritten from libpq's reading with the password as `***`, in the form it
    /// was given (a URI stays a URI). Nothing of the password, not a fragment, is in the result.
    public static func redacted(_ conninfo: String) -> String? {
        guard let options = parsedOptions(conninfo), options.contains(where: { $0.keyword == "password" }) else {
            return nil
        }
        let isURI = conninfo.hasPrefix("postgresql://") || conninfo.hasPrefix("postgres://")
        guard isURI else {
            return options.map { keyword, value in
                keyword == "password" ? "password=***" : keyword + "=" + quoted(value)
            }.joined(separator: " ")
        }
        let value = { (keyword: String) in options.first { $0.keyword == keyword }?.value }
        let encode = { (text: String) in
            text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~"))) ?? ""
        }
        var uri = "postgresql://" + (value("user").map { encode($0) } ?? "") + ":***@"
        uri += (value("host") ?? "").split(separator: ",").map { host in
            host.contains(":") ? "[\(host)]" : String(host)
        }.joined(separator: ",")
        if let port = value("port") { uri += ":" + port }
        uri += "/" + (value("dbname").map { encode($0) } ?? "")
        let rest = options.filter { !["user", "host", "port", "dbname", "password"].contains($0.keyword) }
        if !rest.isEmpty { uri += "?" + rest.map { $0.keyword + "=" + encode($0.value) }.joined(separator: "&") }
        return uri
    }

    /// A conninfo value, quoted when it must be (empty, or holding a space, a quote or a backslash).
    private static func quoted(_ value: String) -> String {
        guard value.isEmpty || value.contains(where: { $0 == " " || $0 == "'" || $0 == "\\" }) else { return value }
        return "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }
}
