import AttentiveSimulator
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Sends raw bytes to 127.0.0.1:`port` and reads until the server closes the connection (at most 10 s).
func rawExchange(port: UInt16, _ request: String) throws -> String {
    #if canImport(Darwin)
        let fd = socket(AF_INET, SOCK_STREAM, 0)
    #else
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #endif
    guard fd >= 0 else { throw HarnessError.notHTTP }
    defer { close(fd) }
    var timeout = timeval()
    timeout.tv_sec = 10
    _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
    let connected = withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard connected == 0 else { throw HarnessError.notHTTP }
    let bytes = Array(request.utf8)
    guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == bytes.count else {
        throw HarnessError.notHTTP
    }
    var received: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { break }
        received.append(contentsOf: chunk[0..<count])
    }
    return String(decoding: received, as: UTF8.self)
}

@Suite("HTTP/1.1 wire behaviour")
struct RawSocketTests {
    @Test("pipelined requests, Expect: 100-continue and Connection: close")
    func pipelining() throws {
        let simulator = AttentiveSimulator(configuration: SimulatorConfiguration(apiKey: "raw"))
        try simulator.start()
        defer { simulator.stop() }
        let body = customAttributesBody(email: "raw@example.com")
        let request =
            "POST /v1/attributes/custom HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer raw\r\n"
            + "Expect: 100-continue\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            + "GET /v1/attributes/custom?email=raw%40example.com HTTP/1.1\r\nHost: x\r\nAuthorization: bearer raw\r\n"
            + "Connection: close\r\n\r\n"
        let response = try rawExchange(port: simulator.port, request)
        #expect(response.hasPrefix("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"))
        #expect(response.components(separatedBy: "HTTP/1.1 200 OK").count == 3)
        #expect(response.contains("Connection: close"))
        #expect(response.hasSuffix(#"[{"name":"tier","value":"gold"}]"#))
    }

    @Test("malformed requests get 400 and the connection is closed")
    func malformed() throws {
        let simulator = AttentiveSimulator(configuration: SimulatorConfiguration(apiKey: "raw"))
        try simulator.start()
        defer { simulator.stop() }
        let response = try rawExchange(port: simulator.port, "NONSENSE\r\n\r\n")
        #expect(response.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        let chunked =
            "POST /v1/attributes/custom HTTP/1.1\r\nAuthorization: Bearer raw\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "zz\r\n"
        #expect(try rawExchange(port: simulator.port, chunked).hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        let http10 = "GET /v1/me HTTP/1.0\r\nAuthorization: Bearer raw\r\n\r\n"
        let answered = try rawExchange(port: simulator.port, http10)
        #expect(answered.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(answered.contains("Connection: close"))
    }
}
