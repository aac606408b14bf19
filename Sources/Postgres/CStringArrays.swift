import CLibPQ
import Foundation

/// Calls `body` with a C array of C strings (NULL-terminated) that lives for the duration of the call.
func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { for pointer in pointers { free(pointer) } }
    return pointers.withUnsafeBufferPointer { buffer in
        buffer.withMemoryRebound(to: UnsafePointer<CChar>?.self) { rebound in
            body(rebound.baseAddress)
        }
    }
}

/// Calls `body` with libpq parameter values: C strings, or NULL pointers for SQL NULL.
/// - Throws: `PostgresError` (SQLSTATE 22021, as the server reports a NUL in text) when a value contains a NUL
///   character: libpq takes C strings, which would silently cut the value at the NUL, and PostgreSQL `text`
///   cannot hold one anyway. Nothing is sent.
func withParameterPointers<R>(_ parameters: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) throws
    -> R
{
    if parameters.isEmpty { return body(nil) }
    for (index, value) in parameters.enumerated() where value?.utf8.contains(0) == true {
        throw PostgresError(
            code: .statementFailed,
            message: "parameter $\(index + 1) contains a NUL character, which PostgreSQL text cannot hold",
            sqlState: "22021")
    }
    let pointers: [UnsafeMutablePointer<CChar>?] = parameters.map { value in value.map { strdup($0) } ?? nil }
    defer { for pointer in pointers { free(pointer) } }
    return pointers.withUnsafeBufferPointer { buffer in
        buffer.withMemoryRebound(to: UnsafePointer<CChar>?.self) { body($0.baseAddress) }
    }
}
