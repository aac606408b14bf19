import CLibPQ
import Foundation

/// One result row, each column as text (PostgreSQL's text output format) or `nil` for NULL, with its result's
/// column names.
public struct PostgresRow: Sendable, Equatable {
    /// The column values in select-list order.
    public let values: [String?]
    /// The names of the columns, shared with the other rows of the result (none for COPY rows).
    public let columns: PostgresColumns

    /// Makes a row from already-decoded values.
    public init(values: [String?], columns: PostgresColumns = PostgresColumns(names: [])) {
        self.values = values
        self.columns = columns
    }

    init(result: OpaquePointer, row: Int32, columns: PostgresColumns) {
        self.columns = columns
        let count = PQnfields(result)
        var values: [String?] = []
        values.reserveCapacity(Int(count))
        for column in 0..<count {
            if PQgetisnull(result, row, column) == 1 {
                values.append(nil)
            } else {
                values.append(String(cString: PQgetvalue(result, row, column)))
            }
        }
        self.values = values
    }

    public static func == (left: PostgresRow, right: PostgresRow) -> Bool { left.values == right.values }

    /// The value of column `index`, or `nil` for NULL or a column that is not there.
    public subscript(index: Int) -> String? {
        index < values.count ? values[index] : nil
    }

    /// The position of the column called `name` in this row's result: resolve it once, read rows by index.
    /// - Throws: `PostgresError` (``PostgresError/Code/missingColumn``) naming the column when there is none.
    public func index(of name: String) throws -> Int { try columns.index(of: name) }

    /// The value of the column called `name`, or `nil` for NULL. For a few reads; a reader of many rows resolves
    /// the names once with ``index(of:)``.
    /// - Throws: `PostgresError` (``PostgresError/Code/missingColumn``) naming the column when there is none.
    public func value(_ name: String) throws -> String? { self[try columns.index(of: name)] }

    /// Column `index` as an integer, or `nil`.
    public func int(_ index: Int) -> Int? { self[index].flatMap { Int($0) } }

    /// Column `index` as a boolean (`t`/`f`), or `nil`.
    public func bool(_ index: Int) -> Bool? {
        switch self[index] {
        case "t"?: return true
        case "f"?: return false
        default: return nil
        }
    }
}

/// PostgreSQL's COPY text format (for `COPY … FROM STDIN`): tab-separated columns, `\N` for NULL, backslash escapes.
enum CopyTextFormat {
    /// Appends one row in COPY text format, escaping backslashes, tabs, newlines and carriage returns.
    static func encodeRow(_ row: [String?], into buffer: inout [UInt8]) {
        for (position, value) in row.enumerated() {
            if position > 0 { buffer.append(UInt8(ascii: "\t")) }
            guard let value else {
                buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "N")])
                continue
            }
            for byte in value.utf8 {
                switch byte {
                case UInt8(ascii: "\\"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
                case UInt8(ascii: "\t"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
                case UInt8(ascii: "\n"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
                case UInt8(ascii: "\r"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
                default: buffer.append(byte)
                }
            }
        }
        buffer.append(UInt8(ascii: "\n"))
    }
}
