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
        var lines = splitLines(bytes)
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let requestLine = lines.first else { throw HTTPParseError(status: 400, message: "empty request") }
        let parts = requestLine.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[1].first == UInt8(ascii: "/") || parts[1].elementsEqual([42])
        else { throw HTTPParseError(status: 400, message: "malformed request line") }
        let version = String(decoding: parts[2], as: UTF8.self)
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
            throw HTTPParseError(status: 505, message: "unsupported HTTP version")
        }
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(lines.count - 1)
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon != line.startIndex else {
                throw HTTPParseError(status: 400, message: "malformed header line")
            }
            let name = line[line.startIndex..<colon]
            guard !name.contains(UInt8(ascii: " ")), !name.contains(9) else {
                throw HTTPParseError(status: 400, message: "whitespace in header name")
            }
            var value = line[(colon + 1)...]
            while let first = value.first, first == 32 || first == 9 { value.removeFirst() }
            while let last = value.last, last == 32 || last == 9 { value.removeLast() }
            let loweredName = name.map { (65...90).contains($0) ? $0 + 32 : $0 }
            headers.append((String(decoding: loweredName, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }
        return HTTPRequestHead(
            method: String(decoding: parts[0], as: UTF8.self), target: String(decoding: parts[1], as: UTF8.self),
            version: version, headers: headers)
    }

    /// Splits on CRLF (a bare LF is tolerated as a line end).
    private static func splitLines(_ bytes: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        for index in bytes.indices where bytes[index] == 10 {
            var end = index
            if end > start, bytes[end - 1] == 13 { end -= 1 }
            lines.append(bytes[start..<end])
            start = index + 1
        }
        lines.append(bytes[start..<bytes.endIndex])
        return lines
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
