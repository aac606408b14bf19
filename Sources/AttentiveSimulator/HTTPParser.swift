import Foundation

/// Why a request could not be parsed; the connection answers with `status` and closes.
struct HTTPParseError: Error, Equatable {
    var status: Int
    var message: String
}

/// The request line and headers of a request.
struct HTTPRequestHead: Sendable {
    var method: String
    var target: String
    var version: String
    var headers: [(name: String, value: String)]

    func header(_ name: String) -> String? {
        headers.first(where: { $0.name == name })?.value
    }
}

/// How the body of a request is delimited.
enum HTTPBodyFraming: Equatable {
    case none
    case contentLength(Int)
    case chunked
}

/// Pure parsing functions for HTTP/1.1 requests (RFC 9112), independent of sockets.
enum HTTPParser {
    /// Largest accepted request head (request line + headers).
    static let maximumHeadSize = 64 * 1024
    /// Largest accepted body.
    static let maximumBodySize = 32 * 1024 * 1024

    /// The index just past the blank line ending the head, searching `buffer` from `start`, or nil if not there yet.
    static func headEnd(in buffer: [UInt8], searchingFrom start: Int) -> Int? {
        var index = max(0, start - 3)
        while index + 4 <= buffer.count {
            if buffer[index] == 13, buffer[index + 1] == 10, buffer[index + 2] == 13, buffer[index + 3] == 10 {
                return index + 4
            }
            index += 1
        }
        return nil
    }

    /// Parses the head bytes (everything before the blank line).
    static func parseHead(_ bytes: ArraySlice<UInt8>) throws(HTTPParseError) -> HTTPRequestHead {
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.components(separatedBy: "\r\n")
        while lines.last == "" { lines.removeLast() }
        guard let requestLine = lines.first else { throw HTTPParseError(status: 400, message: "empty request") }
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[1].hasPrefix("/") || parts[1] == "*" else {
            throw HTTPParseError(status: 400, message: "malformed request line")
        }
        let version = String(parts[2])
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
            throw HTTPParseError(status: 505, message: "unsupported HTTP version")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
                throw HTTPParseError(status: 400, message: "malformed header line")
            }
            let name = line[line.startIndex..<colon]
            guard !name.contains(" "), !name.contains("\t") else {
                throw HTTPParseError(status: 400, message: "whitespace in header name")
            }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
            headers.append((name.lowercased(), value))
        }
        return HTTPRequestHead(method: String(parts[0]), target: String(parts[1]), version: version, headers: headers)
    }

    /// The body framing the head declares.
    static func framing(of head: HTTPRequestHead) throws(HTTPParseError) -> HTTPBodyFraming {
        if let transferEncoding = head.header("transfer-encoding") {
            let codings = transferEncoding.lowercased().split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard codings.last == "chunked", codings.allSatisfy({ $0 == "chunked" || $0 == "identity" }) else {
                throw HTTPParseError(status: 501, message: "unsupported transfer-encoding")
            }
            return .chunked
        }
        let lengths = head.headers.filter { $0.name == "content-length" }.map(\.value)
        guard let first = lengths.first else { return .none }
        guard lengths.allSatisfy({ $0 == first }), let length = Int(first), length >= 0 else {
            throw HTTPParseError(status: 400, message: "invalid content-length")
        }
        guard length <= maximumBodySize else { throw HTTPParseError(status: 413, message: "body too large") }
        return length == 0 ? .none : .contentLength(length)
    }

    /// Decodes a chunked body at the start of `buffer`.
    /// Returns the body and the number of bytes consumed (including trailers), or nil when more bytes are needed.
    static func decodeChunked(_ buffer: ArraySlice<UInt8>) throws(HTTPParseError) -> (body: [UInt8], consumed: Int)? {
        var body: [UInt8] = []
        var index = buffer.startIndex
        while true {
            guard let lineEnd = findCRLF(buffer, from: index) else { return nil }
            let sizeLine = String(decoding: buffer[index..<lineEnd], as: UTF8.self)
            let sizeText = sizeLine.split(separator: ";", maxSplits: 1).first.map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard let sizeText, let size = Int(sizeText, radix: 16), size >= 0 else {
                throw HTTPParseError(status: 400, message: "malformed chunk size")
            }
            guard body.count + size <= maximumBodySize else {
                throw HTTPParseError(status: 413, message: "body too large")
            }
            index = lineEnd + 2
            if size == 0 {
                // Trailer fields until an empty line.
                while true {
                    guard let trailerEnd = findCRLF(buffer, from: index) else { return nil }
                    let empty = trailerEnd == index
                    index = trailerEnd + 2
                    if empty { return (body, index - buffer.startIndex) }
                }
            }
            guard index + size + 2 <= buffer.endIndex else { return nil }
            body.append(contentsOf: buffer[index..<(index + size)])
            index += size
            guard buffer[index] == 13, buffer[index + 1] == 10 else {
                throw HTTPParseError(status: 400, message: "missing CRLF after chunk")
            }
            index += 2
        }
    }

    private static func findCRLF(_ buffer: ArraySlice<UInt8>, from start: Int) -> Int? {
        var index = start
        while index + 1 < buffer.endIndex {
            if buffer[index] == 13, buffer[index + 1] == 10 { return index }
            index += 1
        }
        return nil
    }
}
