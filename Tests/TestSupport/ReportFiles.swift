import Foundation

/// A published report folder read back for assertions.
public struct ReportFiles: Sendable {
    public let path: String
    public init(path: String) { self.path = path }

    /// The rows of a CSV report as dictionaries keyed by the header.
    public func csv(_ name: String) throws -> [[String: String]] {
        let text = try String(contentsOfFile: path + "/" + name, encoding: .utf8)
        let records = CSVText.parse(text)
        guard let header = records.first else { return [] }
        return records.dropFirst().map { record in
            Dictionary(uniqueKeysWithValues: zip(header, record).map { ($0, $1) })
        }
    }

    /// A text file of the report.
    public func text(_ name: String) throws -> String {
        try String(contentsOfFile: path + "/" + name, encoding: .utf8)
    }
}

/// A straightforward RFC 4180 reader written independently of the Reports module, so tests check its output.
public enum CSVText {
    public static func parse(_ text: String) -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var quoted = false
        let characters = Array(text)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if quoted {
                if character == "\"" {
                    if index + 1 < characters.count && characters[index + 1] == "\"" {
                        field.append("\"")
                        index += 1
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(character)
                }
            } else if character == "\"" {
                quoted = true
            } else if character == "," {
                record.append(field)
                field = ""
            } else if character == "\r\n" || character == "\n" {
                record.append(field)
                records.append(record)
                record = []
                field = ""
            } else {
                field.append(character)
            }
            index += 1
        }
        if !field.isEmpty || !record.isEmpty {
            record.append(field)
            records.append(record)
        }
        return records
    }
}
