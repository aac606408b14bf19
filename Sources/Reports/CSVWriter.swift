import Foundation

/// Writes RFC 4180 CSV to a file: fields with commas, quotes, CR or LF are quoted, quotes doubled, lines end
/// with CRLF. Output is buffered and escaped byte by byte (no `String` per field), so writing a million rows
/// costs little more than the bytes.
///
/// Characters a spreadsheet would not show (Unicode bidirectional controls, control characters other than tab, CR
/// and LF) are written as markers such as `{U+202E}` (``OutboundText``), so a reader sees what is there.
///
/// Cells that a spreadsheet would run as a formula (starting with `=`, `@`, or `+`/`-` not followed by a plain
/// number, or a tab/CR) are prefixed with `'`, so a hostile name or link cannot run in finance's spreadsheet.
/// Plain signed numbers and E.164 phones (`+15551234567`) are left as they are.
public final class CSVWriter {
    private let file: ReportFile
    /// How many data rows (not counting the header) were written.
    public private(set) var rowCount = 0

    /// Creates (or truncates) the file at `path` and writes the header row.
    /// - Throws: `ReportError` when the file cannot be created.
    public init(path: String, header: [String]) throws {
        file = try ReportFile(path: path)
        write(header.map { Optional($0) })
        rowCount = 0
    }

    /// Appends one row; `nil` is written as an empty field.
    public func write(_ fields: [String?]) {
        file.appendBytes { buffer in
            for index in fields.indices {
                if index > 0 { buffer.append(UInt8(ascii: ",")) }
                if var field = fields[index] {
                    field.withUTF8 { CSVWriter.append($0, to: &buffer) }
                }
            }
            buffer.append(UInt8(ascii: "\r"))
            buffer.append(UInt8(ascii: "\n"))
        }
        rowCount += 1
    }

    /// What a byte asks of its field (``byteClasses``): nothing, quotes, or a look for hidden characters.
    private static let needsQuotes: UInt8 = 1
    private static let mayHide: UInt8 = 2

    /// Each byte's class: the bytes that may start a character a spreadsheet would not show (``OutboundText/isHidden(_:)``:
    /// a control byte other than tab, CR and LF, or the first byte of a two- or three-byte sequence those characters
    /// use, 0xC2 for C1 controls and 0xE2 for the bidirectional controls), and those that need quotes.
    private static let byteClasses: [UInt8] = (0...255).map { byte -> UInt8 in
        switch byte {
        case 0x0A, 0x0D: return needsQuotes
        case 0x22, 0x2C: return needsQuotes
        case 0x09: return 0
        case 0..<0x20, 0x7F, 0xC2, 0xE2: return mayHide
        default: return 0
        }
    }

    /// Appends one field: one pass over its bytes classifies it, and a plain field (most of a large report) is
    /// copied as it is; the others take ``appendEscaped(_:to:)``, after ``OutboundText/visible(_:)`` when a hidden
    /// character may be there. ``write(_:)`` and ``escape(_:)`` both write fields through it.
    static func append(_ field: UnsafeBufferPointer<UInt8>, to buffer: inout [UInt8]) {
        var seen: UInt8 = 0
        byteClasses.withUnsafeBufferPointer { classes in
            for byte in field { seen |= classes[Int(byte)] }
        }
        if seen & mayHide != 0 {
            var visible = OutboundText.visible(String(decoding: field, as: UTF8.self))
            visible.withUTF8 { appendEscaped($0, to: &buffer) }
        } else if seen & needsQuotes != 0 || needsFormulaGuard(field) {
            appendEscaped(field, to: &buffer)
        } else {
            buffer.append(contentsOf: field)
        }
    }

    /// Flushes, syncs to disk and closes the file.
    public func close() throws { try file.close(sync: true) }

    /// One field as it appears in the file: hidden characters made visible (`{U+202E}`), guarded against formula
    /// injection, then quoted if needed.
    public static func escape(_ raw: String) -> String {
        var field = raw
        var bytes: [UInt8] = []
        field.withUTF8 { append($0, to: &bytes) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `field` (UTF-8) as it appears in the file. Every byte that matters is ASCII, and UTF-8 never uses
    /// ASCII byte values inside a multi-byte character, so the bytes can be examined one by one.
    static func appendEscaped(_ field: UnsafeBufferPointer<UInt8>, to buffer: inout [UInt8]) {
        var needsQuotes = false
        for byte in field
        where byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\n")
            || byte == UInt8(ascii: "\r")
        {
            needsQuotes = true
            break
        }
        if needsQuotes { buffer.append(UInt8(ascii: "\"")) }
        if needsFormulaGuard(field) { buffer.append(UInt8(ascii: "'")) }
        if needsQuotes {
            for byte in field {
                buffer.append(byte)
                if byte == UInt8(ascii: "\"") { buffer.append(byte) }
            }
            buffer.append(UInt8(ascii: "\""))
        } else {
            buffer.append(contentsOf: field)
        }
    }

    /// Whether a spreadsheet would run the field as a formula: it starts with `=`, `@`, a tab or CR, or with `+`
    /// or `-` not followed by a plain number (digits and dots only).
    static func needsFormulaGuard(_ field: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = field.first else { return false }
        switch first {
        case UInt8(ascii: "="), UInt8(ascii: "@"), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
            return true
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let rest = field.dropFirst()
            let plainNumber =
                !rest.isEmpty
                && rest.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: ".") }
            return !plainNumber
        default:
            return false
        }
    }
}

/// Parses RFC 4180 CSV text into rows (used by tests and by tools that read reports back).
public enum CSVReader {
    /// Splits `text` into records of fields, honouring quoted fields with commas, quotes and line breaks.
    public static func parse(_ text: String) -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var inQuotes = false
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func next() -> Unicode.Scalar? {
            if let scalar = pending {
                pending = nil
                return scalar
            }
            return iterator.next()
        }
        while let scalar = next() {
            if inQuotes {
                if scalar == "\"" {
                    if let following = next() {
                        if following == "\"" {
                            field.unicodeScalars.append("\"")
                        } else {
                            inQuotes = false
                            pending = following
                        }
                    } else {
                        inQuotes = false
                    }
                } else {
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"": inQuotes = true
            case ",":
                record.append(field)
                field = ""
            case "\r":
                continue
            case "\n":
                record.append(field)
                records.append(record)
                record = []
                field = ""
            default: field.unicodeScalars.append(scalar)
            }
        }
        if !field.isEmpty || !record.isEmpty {
            record.append(field)
            records.append(record)
        }
        return records
    }
}
