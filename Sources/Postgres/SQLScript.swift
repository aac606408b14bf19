/// A script of PostgreSQL statements (a migration, a definitions file) split into its statements, so each is sent
/// on its own: Citus propagates a DDL statement to the workers with the text it was given, and a text of several
/// statements is refused there ("cannot insert multiple commands into a prepared statement", issue 28).
///
/// Splits at the semicolons that end statements, and only those: not inside `--` or nested `/* */` comments,
/// `'…'` strings (doubled quotes; backslash escapes in `E'…'`), `"…"` identifiers, or dollar-quoted bodies
/// (`$$…$$`, `$tag$…$tag$`; a `$1` parameter is not a quote). Each statement keeps its text as written, comments
/// included, without the semicolon; pieces holding only comments and whitespace are dropped.
///
/// A function or procedure with a SQL-standard body (`CREATE [OR REPLACE] FUNCTION … BEGIN ATOMIC …; …; END`) is
/// one statement: its semicolons are not split at. Like psql, a statement that starts `CREATE [OR REPLACE]
/// FUNCTION|PROCEDURE` counts `BEGIN` and `CASE` against `END`, outside parentheses, and ends only at depth zero.
public enum SQLScript {
    /// The statements of `script`, in order.
    public static func statements(_ script: String) -> [String] {
        let bytes = Array(script.utf8)
        var statements: [String] = []
        var start = 0
        var hasCode = false
        var index = 0
        var body = AtomicBody()

        func finish(at end: Int) {
            if hasCode {
                let text = String(decoding: bytes[start..<end], as: UTF8.self)
                statements.append(text.trimmingWhitespace())
            }
            start = end + 1
            hasCode = false
            body = AtomicBody()
        }

        while index < bytes.count {
            let byte = bytes[index]
            let next = index + 1 < bytes.count ? bytes[index + 1] : 0
            switch byte {
            case UInt8(ascii: "-") where next == UInt8(ascii: "-"):
                while index < bytes.count, bytes[index] != UInt8(ascii: "\n") { index += 1 }
                continue
            case UInt8(ascii: "/") where next == UInt8(ascii: "*"):
                index = endOfBlockComment(bytes, from: index)
                continue
            case UInt8(ascii: "'"):
                hasCode = true
                index = endOfString(bytes, from: index, backslashEscapes: isEscapeStringPrefix(bytes, before: index))
                continue
            case UInt8(ascii: "\""):
                hasCode = true
                index = endOfQuoted(bytes, from: index, quote: UInt8(ascii: "\""))
                continue
            case UInt8(ascii: "$"):
                hasCode = true
                if let tagEnd = dollarTagEnd(bytes, at: index) {
                    index = endOfDollarQuote(bytes, tag: Array(bytes[index...tagEnd]), from: tagEnd + 1)
                    continue
                }
            case UInt8(ascii: ";") where body.depth == 0:
                finish(at: index)
            case UInt8(ascii: "("):
                hasCode = true
                body.parentheses += 1
            case UInt8(ascii: ")"):
                hasCode = true
                body.parentheses -= 1
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                break
            case let first where isIdentifierByte(first) && !(first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")):
                hasCode = true
                var end = index + 1
                while end < bytes.count, isIdentifierByte(bytes[end]) || bytes[end] == UInt8(ascii: "$") { end += 1 }
                body.read(word: String(decoding: bytes[index..<end], as: UTF8.self).lowercased())
                index = end
                continue
            default:
                hasCode = true
            }
            index += 1
        }
        finish(at: bytes.count)
        return statements
    }

    /// psql's reading of a SQL-standard function body: whether the statement so far is `CREATE [OR REPLACE]
    /// FUNCTION|PROCEDURE`, and how many `BEGIN`s and `CASE`s (outside parentheses) its `END`s have not closed.
    private struct AtomicBody {
        var words: [String] = []
        var parentheses = 0
        var depth = 0

        mutating func read(word: String) {
            if words.count < 4 { words.append(word) }
            let creates =
                words.first == "create"
                && (["function", "procedure"].contains(words.dropFirst().first ?? "")
                    || (words.dropFirst().first == "or" && words.dropFirst(2).first == "replace"
                        && ["function", "procedure"].contains(words.dropFirst(3).first ?? "")))
            guard creates, parentheses == 0 else { return }
            switch word {
            case "begin": depth += 1
            case "case" where depth > 0: depth += 1
            case "end" where depth > 0: depth -= 1
            default: break
            }
        }
    }

    private static func isIdentifierByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_") || byte >= 0x80
    }

    /// Whether the quote at `index` opens an `E'…'` string (an `E` that is not the end of a longer word).
    private static func isEscapeStringPrefix(_ bytes: [UInt8], before index: Int) -> Bool {
        guard index >= 1, bytes[index - 1] == UInt8(ascii: "E") || bytes[index - 1] == UInt8(ascii: "e") else {
            return false
        }
        return index < 2 || !isIdentifierByte(bytes[index - 2])
    }

    /// The index after a `/* */` comment (nested ones included) that starts at `index`.
    private static func endOfBlockComment(_ bytes: [UInt8], from index: Int) -> Int {
        var depth = 0
        var position = index
        while position < bytes.count {
            let next = position + 1 < bytes.count ? bytes[position + 1] : 0
            if bytes[position] == UInt8(ascii: "/"), next == UInt8(ascii: "*") {
                depth += 1
                position += 2
            } else if bytes[position] == UInt8(ascii: "*"), next == UInt8(ascii: "/") {
                depth -= 1
                position += 2
                if depth == 0 { return position }
            } else {
                position += 1
            }
        }
        return position
    }

    /// The index after a `'…'` string that starts at `index`.
    private static func endOfString(_ bytes: [UInt8], from index: Int, backslashEscapes: Bool) -> Int {
        var position = index + 1
        while position < bytes.count {
            if backslashEscapes, bytes[position] == UInt8(ascii: "\\") {
                position += 2
                continue
            }
            if bytes[position] == UInt8(ascii: "'") {
                if position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "'") {
                    position += 2
                    continue
                }
                return position + 1
            }
            position += 1
        }
        return position
    }

    /// The index after a `"…"` identifier that starts at `index`.
    private static func endOfQuoted(_ bytes: [UInt8], from index: Int, quote: UInt8) -> Int {
        var position = index + 1
        while position < bytes.count {
            if bytes[position] == quote {
                if position + 1 < bytes.count, bytes[position + 1] == quote {
                    position += 2
                    continue
                }
                return position + 1
            }
            position += 1
        }
        return position
    }

    /// The index of the `$` closing a dollar-quote tag that opens at `index` (`$$`, `$tag$`), or nil when the `$`
    /// is not one (a `$1` parameter, a `$` inside a word).
    private static func dollarTagEnd(_ bytes: [UInt8], at index: Int) -> Int? {
        if index > 0, isIdentifierByte(bytes[index - 1]) { return nil }
        var position = index + 1
        while position < bytes.count, bytes[position] != UInt8(ascii: "$") {
            let byte = bytes[position]
            let first = position == index + 1
            let digit = byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
            guard isIdentifierByte(byte), !(first && digit) else { return nil }
            position += 1
        }
        return position < bytes.count ? position : nil
    }

    /// The index after the `tag` that closes a dollar-quoted body starting at `index`.
    private static func endOfDollarQuote(_ bytes: [UInt8], tag: [UInt8], from index: Int) -> Int {
        var position = index
        while position + tag.count <= bytes.count {
            if bytes[position] == UInt8(ascii: "$"), Array(bytes[position..<(position + tag.count)]) == tag {
                return position + tag.count
            }
            position += 1
        }
        return bytes.count
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        let whitespace: Set<Character> = [" ", "\t", "\n", "\r"]
        guard let first = firstIndex(where: { !whitespace.contains($0) }),
            let last = lastIndex(where: { !whitespace.contains($0) })
        else { return "" }
        return String(self[first...last])
    }
}
