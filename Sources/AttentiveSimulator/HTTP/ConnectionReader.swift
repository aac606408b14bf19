import Foundation

/// Reads successive requests from one connection.
struct ConnectionReader {
    enum Result {
        case request(HTTPRequest)
        case closed
        case failed(HTTPParseError)
    }

    let fd: Int32
    private var buffer: [UInt8] = []
    private var scratch = [UInt8](repeating: 0, count: 64 * 1024)

    init(fd: Int32) {
        self.fd = fd
        buffer.reserveCapacity(16 * 1024)
    }

    /// Whether bytes of a next request have already been read (pipelined), so the connection is not idle.
    var hasBufferedBytes: Bool {
        !buffer.isEmpty
    }

    /// Waits for and reads the next complete request.
    mutating func nextRequest() -> Result {
        var searchFrom = 0
        var headEnd: Int
        while true {
            while buffer.count >= 2, buffer[0] == 13, buffer[1] == 10 { buffer.removeFirst(2) }
            if let end = HTTPParser.headEnd(in: buffer, searchingFrom: searchFrom) {
                headEnd = end
                break
            }
            if buffer.count > HTTPParser.maximumHeadSize {
                return .failed(HTTPParseError(status: 431, message: "request head too large"))
            }
            searchFrom = buffer.count
            guard fill() else { return .closed }
        }
        do {
            let head = try HTTPParser.parseHead(buffer[0..<(headEnd - 4)])
            let framing = try HTTPParser.framing(of: head)
            let body: [UInt8]
            let consumed: Int
            if framing != .none, head.header("expect")?.lowercased() == "100-continue" {
                _ = Socket.writeAll(fd, Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
            }
            switch framing {
            case .none:
                body = []
                consumed = headEnd
            case .contentLength(let length):
                while buffer.count < headEnd + length {
                    guard fill() else { return .closed }
                }
                body = Array(buffer[headEnd..<(headEnd + length)])
                consumed = headEnd + length
            case .chunked:
                while true {
                    if let decoded = try HTTPParser.decodeChunked(buffer[headEnd...]) {
                        body = decoded.body
                        consumed = headEnd + decoded.consumed
                        break
                    }
                    guard fill() else { return .closed }
                }
            }
            buffer.removeFirst(consumed)
            return .request(
                HTTPRequest(
                    method: head.method, target: head.target, version: head.version, headers: head.headers,
                    body: body))
        } catch {
            return .failed(error)
        }
    }

    /// Blocks for more bytes (the socket's receive timeout bounds idle and stalled connections).
    private mutating func fill() -> Bool {
        Socket.read(fd, into: &buffer, scratch: &scratch) > 0
    }
}
