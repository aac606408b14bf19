import Foundation

/// Writes RFC 4180 CSV to a file: fields with commas, quotes, CR or LF are quoted, quotes doubled, lines end
/// with CRLF. Output is buffered, so writing a million rows costs little more than the bytes.
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
        writeRecord(header)
    }

    /// Appends one row; `nil` is written as an empty field.
    public func write(_ fields: [String?]) {
        writeRecord(fields)
        rowCount += 1
    }

    /// Flushes, syncs to disk and closes the file.
    public func close() throws { try file.close(sync: true) }

    private func writeRecord(_ fields: [String?]) {
        var line = ""
        for (index, field) in fields.enumerated() {
            if index > 0 { line.append(",") }
            line.append(CSVWriter.escape(field ?? ""))
        }
        line.append("\r\n")
        file.write(line)
    }

    /// One field as it appears in the file: guarded against formula injection, then quoted if needed.
    public static func escape(_ raw: String) -> String {
        let field = guardFormula(raw)
        let needsQuotes = field.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }
        guard needsQuotes else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func guardFormula(_ field: String) -> String {
        guard let first = field.unicodeScalars.first else { return field }
        switch first {
        case "=", "@", "\t", "\r":
            return "'" + field
        case "+", "-":
            let rest = field.unicodeScalars.dropFirst()
            let plainNumber = !rest.isEmpty && rest.allSatisfy { ("0"..."9").contains($0) || $0 == "." }
            return plainNumber ? field : "'" + field
        default:
            return field
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
