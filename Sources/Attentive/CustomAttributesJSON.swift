/// The body of `POST /v1/attributes/custom` (`CustomAttributesRequest`), written by hand: compact JSON with sorted
/// keys, the same bytes for the request and for the dry run's `dry_run_requests.jsonl`, so a dry run shows exactly
/// what would be sent. Written without `JSONEncoder`/`JSONSerialization`, whose bridging of every dictionary and
/// value took over 80% of a million-participant dry run. Absent or empty identifiers are omitted, as
/// ``RequestBody/Identifiers`` does for the bulk body.
public enum CustomAttributesJSON {
    /// The request body for `update`, as text.
    public static func encode(_ update: AttributeUpdate) -> String {
        String(decoding: bytes(update), as: UTF8.self)
    }

    /// The request body for `update`, as UTF-8 bytes.
    static func bytes(_ update: AttributeUpdate) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(320)
        bytes.append(contentsOf: #"{"properties":{"#.utf8)
        for (index, name) in update.properties.keys.sorted().enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            appendString(name, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            appendString(update.properties[name] ?? "", to: &bytes)
        }
        bytes.append(contentsOf: #"},"user":{"#.utf8)
        var needsComma = false
        for (key, value) in [("email", update.user.nonEmptyEmail), ("phone", update.user.nonEmptyPhone)] {
            guard let value else { continue }
            if needsComma { bytes.append(UInt8(ascii: ",")) }
            appendString(key, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            appendString(value, to: &bytes)
            needsComma = true
        }
        bytes.append(contentsOf: "}}".utf8)
        return bytes
    }

    /// A JSON string (RFC 8259): quote and backslash escaped, the common control characters by name and the
    /// others as `\u00XX`; everything else, slashes included, as its UTF-8 bytes.
    static func appendString(_ text: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        // Most values need no escape: copied whole from the string's own bytes (a byte at a time through the UTF-8
        // view was a tenth of a first dry run's CPU).
        let copiedWhole = text.utf8.withContiguousStorageIfAvailable { buffer in
            for byte in buffer where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                return false
            }
            bytes.append(contentsOf: buffer)
            return true
        }
        if copiedWhole == true {
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): bytes.append(contentsOf: #"\\"#.utf8)
            case 0x08: bytes.append(contentsOf: #"\b"#.utf8)
            case 0x0C: bytes.append(contentsOf: #"\f"#.utf8)
            case UInt8(ascii: "\n"): bytes.append(contentsOf: #"\n"#.utf8)
            case UInt8(ascii: "\r"): bytes.append(contentsOf: #"\r"#.utf8)
            case UInt8(ascii: "\t"): bytes.append(contentsOf: #"\t"#.utf8)
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: #"\u00"#.utf8)
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0x0F)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
