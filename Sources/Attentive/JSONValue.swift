import Foundation

/// A loosely typed JSON value, for reading response bodies whose shape is only roughly known.
///
/// Decoded with `JSONDecoder`, which tells booleans from numbers the same way on every platform
/// (unlike `NSNumber` from `JSONSerialization`).
enum JSONValue: Decodable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// Parses `data`; `nil` when it is not JSON.
    static func parse(_ data: Data) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: data)
    }

    /// A scalar as text (`"x"`, `12`, `1.5`, `true`); `nil` for null, arrays and objects.
    var scalarText: String? {
        switch self {
        case .string(let value): return value
        case .bool(let value): return value ? "true" : "false"
        case .integer(let value): return String(value)
        case .double(let value): return String(value)
        case .null, .array, .object: return nil
        }
    }

    /// An integer, or a string holding one.
    var intValue: Int? {
        switch self {
        case .integer(let value): return Int(exactly: value)
        case .double(let value): return value.rounded() == value ? Int(exactly: value) : nil
        case .string(let value): return Int(value.trimmingCharacters(in: .whitespaces))
        case .null, .bool, .array, .object: return nil
        }
    }

    /// The members of an object, or `nil`.
    var objectValue: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// The elements of an array, or `nil`.
    var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// Compact JSON text of the value, keys sorted.
    var compactText: String {
        switch self {
        case .null: return "null"
        case .string(let value):
            let encoded = try? JSONEncoder().encode(value)
            return encoded.map { String(decoding: $0, as: UTF8.self) } ?? "\"\(value)\""
        case .bool, .integer, .double: return scalarText ?? ""
        case .array(let elements): return "[" + elements.map(\.compactText).joined(separator: ",") + "]"
        case .object(let members):
            let parts = members.keys.sorted().map { key in
                JSONValue.string(key).compactText + ":" + (members[key]?.compactText ?? "null")
            }
            return "{" + parts.joined(separator: ",") + "}"
        }
    }

    /// The human-readable message in an error value: a string, the `message`/`error`/... member of
    /// an object, or the messages of an array's elements joined with "; ".
    var messageText: String? {
        switch self {
        case .string(let value): return value.isEmpty ? nil : value
        case .bool, .integer, .double: return scalarText
        case .null: return nil
        case .array(let elements):
            let parts = elements.compactMap(\.messageText)
            return parts.isEmpty ? nil : parts.joined(separator: "; ")
        case .object(let members):
            for key in ["message", "error", "detail", "description", "reason"] {
                if let text = members[key]?.messageText { return text }
            }
            return members.isEmpty ? nil : compactText
        }
    }
}
