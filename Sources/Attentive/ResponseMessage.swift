import Foundation

/// Turns an error response body into a short, single-line message fit for a report row:
/// Attentive's JSON `message`/`error` when there is one, an HTML page reduced to its title,
/// whitespace collapsed, length bounded, and the API key never included.
enum ResponseMessage {
    /// Longest message kept, in characters.
    static let maxLength = 300

    /// Summarises `body` of an HTTP `status` answer.
    static func summarize(status: Int, body: Data, contentType: String?, redactor: Redactor) -> String {
        let text = String(decoding: body.prefix(64 * 1024), as: UTF8.self)
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let summary: String
        if trimmed.isEmpty {
            summary = "HTTP \(status) with an empty body"
        } else if isHTML(trimmed, contentType: contentType) {
            summary = htmlSummary(trimmed, status: status)
        } else if let fromJSON = jsonMessage(body) {
            summary = fromJSON
        } else {
            summary = trimmed
        }
        return bounded(redactor.redact(collapseWhitespace(summary)))
    }

    /// Collapses runs of whitespace and newlines into single spaces.
    static func collapseWhitespace(_ text: String) -> String {
        text.split(whereSeparator: { $0.isWhitespace || $0.isNewline }).joined(separator: " ")
    }

    /// Cuts `text` to `maxLength` characters, marking the cut.
    static func bounded(_ text: String, maxLength: Int = maxLength) -> String {
        guard text.count > maxLength else { return text }
        return String(text.prefix(maxLength - 1)) + "…"
    }

    private static func isHTML(_ text: String, contentType: String?) -> Bool {
        if let contentType, contentType.lowercased().contains("html") { return true }
        let head = text.prefix(512).lowercased()
        return head.hasPrefix("<!doctype html") || head.hasPrefix("<html") || head.contains("<html")
            || head.contains("<body") || head.contains("<title")
    }

    private static func htmlSummary(_ html: String, status: Int) -> String {
        let title = elementText("title", in: html) ?? elementText("h1", in: html)
        let text = title.map(collapseWhitespace) ?? bounded(collapseWhitespace(stripTags(html)), maxLength: 120)
        return text.isEmpty ? "HTML error page (HTTP \(status))" : "HTML error page: \(text)"
    }

    private static func elementText(_ tag: String, in html: String) -> String? {
        guard let open = html.range(of: "<\(tag)", options: .caseInsensitive),
            let openEnd = html.range(of: ">", range: open.upperBound..<html.endIndex),
            let close = html.range(of: "</\(tag)", options: .caseInsensitive, range: openEnd.upperBound..<html.endIndex)
        else { return nil }
        let inner = collapseWhitespace(stripTags(String(html[openEnd.upperBound..<close.lowerBound])))
        return inner.isEmpty ? nil : inner
    }

    private static func stripTags(_ html: String) -> String {
        var output = ""
        var inTag = false
        for character in html {
            if character == "<" {
                inTag = true
            } else if character == ">" {
                inTag = false
                output.append(" ")
            } else if !inTag {
                output.append(character)
            }
        }
        return output
    }

    /// Attentive's message from a JSON error body (`message`, `error`, `errors`, `detail`, ...).
    static func jsonMessage(_ body: Data) -> String? {
        guard let value = JSONValue.parse(body) else { return nil }
        if let members = value.objectValue {
            let keys = ["error", "message", "errors", "detail", "details", "error_description", "title", "reason"]
            var parts: [String] = []
            for key in keys {
                if let text = members[key]?.messageText, !parts.contains(text) { parts.append(text) }
            }
            if !parts.isEmpty { return parts.joined(separator: ": ") }
        }
        return value.messageText
    }
}

/// Removes the API key from any text that might leave the client (messages, descriptions).
struct Redactor: Sendable {
    /// What replaces the key.
    static let placeholder = "<redacted>"

    let secret: String

    /// Replaces every occurrence of the key with ``placeholder``.
    func redact(_ text: String) -> String {
        guard !secret.isEmpty, text.contains(secret) else { return text }
        return text.replacingOccurrences(of: secret, with: Self.placeholder)
    }
}
