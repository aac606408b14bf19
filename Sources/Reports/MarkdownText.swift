/// Text from the data (names, emails, links, channels, reasons) as Markdown that renders as exactly that text, in
/// GitHub-flavoured Markdown (tables, autolinks, strikethrough) and in plain CommonMark: never as emphasis, code,
/// a link, an image, an autolink, raw HTML or an entity, and never breaking the table row it is in. The one place
/// that decides it (issue 16); report code passes data through ``escape(_:)`` and writes its own markup around it.
///
/// - ASCII punctuation that starts markup is backslash-escaped (CommonMark renders `\*` as `*`): `\ ` * [ ] < > ~
///   & ! #`, and `_` unless it is inside a word (`too_old` stays as it is: an intraword `_` is never emphasis).
///   `|` is the table's to escape (``MarkdownTable`` does it for every cell, code spans included).
/// - Autolinks: the `:` after a letter (`https:`) and the `.` after `www` are escaped, which keeps GFM's extended
///   autolinks from turning `https://…` and `www.…` into links. No escape stops GFM's email autolink (cmark-gfm
///   links `a@b.c` however its characters are escaped), so text with an `@` is written as a code span instead.
/// - Line breaks (CR, LF, CRLF) become a space: a cell stays one line.
/// - Unicode bidirectional controls (U+202A–U+202E, U+2066–U+2069) and other control characters are shown as
///   `{U+202E}`, so a right-to-left override cannot make a report read as something else.
public enum MarkdownText {
    /// The characters escaped with a backslash wherever they are.
    static let alwaysEscaped: Set<Character> = ["\\", "`", "*", "[", "]", "<", ">", "~", "&", "!", "#"]

    /// `text` as Markdown inline text (a code span when it has an `@`).
    public static func escape(_ text: String) -> String {
        if text.contains("@") { return code(text) }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        let characters = Array(text.replacingOccurrences(of: "\r\n", with: "\n"))
        for (index, character) in characters.enumerated() {
            if character == "\n" || character == "\r" {
                out.append(" ")
                continue
            }
            if let scalar = character.unicodeScalars.first, character.unicodeScalars.count == 1,
                OutboundText.isHidden(scalar)
            {
                out += OutboundText.marker(scalar)
                continue
            }
            let previous = index > 0 ? characters[index - 1] : nil
            let next = index + 1 < characters.count ? characters[index + 1] : nil
            switch character {
            case _ where alwaysEscaped.contains(character):
                out += "\\" + String(character)
            case "_":
                let inWord =
                    (previous?.isLetter == true || previous?.isNumber == true)
                    && (next?.isLetter == true || next?.isNumber == true)
                out += inWord ? "_" : "\\_"
            case ":" where previous?.isASCII == true && previous?.isLetter == true:
                out += "\\:"
            case "." where index >= 3 && String(characters[(index - 3)..<index]).lowercased() == "www":
                out += "\\."
            default:
                out.append(character)
            }
        }
        return out
    }
}

extension MarkdownText {
    /// `text` as a Markdown code span: a fence longer than any backtick run inside, line breaks as spaces, hidden
    /// characters as markers; `—` when absent or empty. Nothing in a code span is markup or a link.
    public static func code(_ text: String?) -> String {
        guard let text, !text.isEmpty else { return "—" }
        let flat = OutboundText.visible(
            text.replacingOccurrences(of: "\r\n", with: " ").replacingOccurrences(of: "\r", with: " ")
                .replacingOccurrences(of: "\n", with: " "))
        var longest = 0
        var run = 0
        for character in flat {
            run = character == "`" ? run + 1 : 0
            longest = max(longest, run)
        }
        let fence = String(repeating: "`", count: longest + 1)
        let padded = flat.hasPrefix("`") || flat.hasSuffix("`") || flat.hasPrefix(" ") ? " \(flat) " : flat
        return fence + padded + fence
    }
}

/// What text may leave the job: the characters that make text read as something else (Unicode bidirectional
/// controls, the "Trojan Source" trick) or that a viewer does not show (other control characters), and how a
/// report shows them.
public enum OutboundText {
    /// U+202A–U+202E (embeddings, overrides) and U+2066–U+2069 (isolates).
    public static func isBidiControl(_ scalar: Unicode.Scalar) -> Bool {
        (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)
    }

    /// A bidirectional control or a control character other than tab, CR and LF (C0, DEL, C1).
    public static func isHidden(_ scalar: Unicode.Scalar) -> Bool {
        if isBidiControl(scalar) { return true }
        switch scalar.value {
        case 0x09, 0x0A, 0x0D: return false
        case 0x00...0x1F, 0x7F...0x9F: return true
        default: return false
        }
    }

    /// How a report shows a hidden character: `{U+202E}`.
    public static func marker(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "{U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + "}"
    }

    /// `text` with every hidden character replaced by its marker (CSV cells: a spreadsheet shows what is there).
    public static func visible(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isHidden) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if isHidden(scalar) { out += marker(scalar) } else { out.unicodeScalars.append(scalar) }
        }
        return out
    }
}
