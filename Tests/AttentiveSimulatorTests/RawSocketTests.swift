import AttentiveSimulator
import Foundation
import TestSupport
import Testing

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
        let response = try LoopbackSocket.exchange(port: simulator.port, request)
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
        let response = try LoopbackSocket.exchange(port: simulator.port, "NONSENSE\r\n\r\n")
        #expect(response.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        let chunked =
            "POST /v1/attributes/custom HTTP/1.1\r\nAuthorization: Bearer raw\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "zz\r\n"
        #expect(try LoopbackSocket.exchange(port: simulator.port, chunked).hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        let http10 = "GET /v1/me HTTP/1.0\r\nAuthorization: Bearer raw\r\n\r\n"
        let answered = try LoopbackSocket.exchange(port: simulator.port, http10)
        #expect(answered.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(answered.contains("Connection: close"))
    }
}
