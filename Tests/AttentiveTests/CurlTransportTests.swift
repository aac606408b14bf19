import Foundation
import TestSupport
import Testing

@testable import Attentive

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The libcurl transport over real loopback sockets, with the client's default request timeout (30 s) unless a
/// test is about the deadline: a dropped connection must cost milliseconds, not the deadline and a core.
///
/// Durations are taken on the curl thread when a transfer ends (or on the server's thread), never after the test's
/// task resumes: with the whole suite running, resuming can wait seconds for a thread of the concurrency pool.
@Suite("Curl transport")
struct CurlTransportTests {
    static let defaultTimeout = AttentiveClientConfiguration(baseURL: testBaseURL, apiKey: testAPIKey).requestTimeout

    static func transport(timeout: Duration = defaultTimeout, maxConnections: Int = 64) -> CurlTransport {
        CurlTransport(requestTimeout: timeout, maxConnections: maxConnections)
    }

    /// Sends `request` and measures, on the curl thread, how long until it ended.
    static func timedSend(_ transport: CurlTransport, _ request: URLRequest) async -> (
        Result<HTTPResponse, TransportFailure>, Duration
    ) {
        let transfer: CurlTransfer
        switch CurlTransfer.make(request, deadline: transport.deadline) {
        case .success(let made): transfer = made
        case .failure(let failure): return (.failure(failure), .zero)
        }
        let clock = ContinuousClock()
        let start = clock.now
        return await withCheckedContinuation { continuation in
            transport.start(transfer) { result in continuation.resume(returning: (result, clock.now - start)) }
        }
    }

    static func update(on url: URL, _ index: Int = 0) -> URLRequest {
        let factory = RequestFactory(baseURL: url, apiKey: testAPIKey)
        let body = Data(
            #"{"properties":{"referral_code":"CODE-\#(index)"},"user":{"email":"u\#(index)@example.com"}}"#.utf8)
        return factory.request(
            method: "POST", url: factory.url(path: "/v1/attributes/custom") ?? url, body: body)
    }

    @Test(.timeLimit(.minutes(1)), arguments: [DroppingServer.Drop.shutdown, .close, .reset])
    func aDroppedConnectionFailsFastAndARetryOnAFreshOneSucceeds(drop: DroppingServer.Drop) async throws {
        let server = try DroppingServer(drop: drop, picks: { $0 == 1 })
        defer { server.stop() }
        let transport = Self.transport()
        let (first, failedAfter) = await Self.timedSend(transport, Self.update(on: server.baseURL))
        guard case .failure(let failure) = first else {
            Issue.record("a dropped request must fail, got \(first)")
            return
        }
        #expect(failure.isRetryable, "\(failure)")
        #expect(failedAfter < .seconds(1), "detected after \(failedAfter): \(failure)")
        let second = await transport.send(Self.update(on: server.baseURL))
        #expect((try? second.get())?.status == 200, "\(second)")
        #expect(server.connections == 2)
    }

    @Test(.timeLimit(.minutes(1)), arguments: [DroppingServer.Drop.shutdown, .close, .reset])
    func aDropOnAReusedConnectionIsSentAgainOnAFreshOne(drop: DroppingServer.Drop) async throws {
        // libcurl sends a request again, once, when a reused keep-alive connection turns out dead before any
        // answer: the caller sees the answer, in milliseconds.
        let server = try DroppingServer(drop: drop, picks: { $0 == 2 })
        defer { server.stop() }
        let transport = Self.transport()
        var elapsed = Duration.zero
        for index in 0..<2 {
            let (result, took) = await Self.timedSend(transport, Self.update(on: server.baseURL, index))
            #expect((try? result.get())?.status == 200, "\(result)")
            elapsed += took
        }
        #expect(elapsed < .seconds(1), "accept failures: \(server.acceptFailures)")
        #expect(server.requests == 3)
        #expect(server.connections == 2)
    }

    @Test(.timeLimit(.minutes(1)))
    func droppedConnectionsCostNoMoreCPUThanCleanOnes() async throws {
        // A spin detector that does not time the wall clock: the transport thread's CPU over a series whose every
        // other request is dropped (and retried) against a clean series of as many answers. A loop re-arming a
        // dead socket burns a core until the deadline; here a drop costs about what an answer does.
        let count = 40
        func cpuOfSeries(dropping picks: @escaping @Sendable (Int) -> Bool) async throws -> (Duration, Int) {
            let server = try DroppingServer(drop: .shutdown, picks: picks)
            defer { server.stop() }
            let transport = Self.transport()
            let before = transport.threadCPUTime
            var answered = 0
            while answered < count {
                if case .success = await transport.send(Self.update(on: server.baseURL, answered)) { answered += 1 }
            }
            return (transport.threadCPUTime - before, server.requests)
        }
        let (clean, cleanRequests) = try await cpuOfSeries(dropping: { _ in false })
        let (dropped, droppedRequests) = try await cpuOfSeries(dropping: { $0 % 2 == 0 })
        #expect(cleanRequests == count)
        #expect(droppedRequests >= count * 3 / 2)
        #expect(dropped < clean * 4 + .milliseconds(200), "clean \(clean), dropped \(dropped)")
    }

    @Test(.timeLimit(.minutes(1)))
    func aHalfOpenServerIsBoundedByTheDeadlineToTheMillisecond() async throws {
        let server = try DroppingServer(drop: .silent, picks: { _ in true })
        defer { server.stop() }
        let transport = Self.transport(timeout: .milliseconds(300))
        let (result, elapsed) = await Self.timedSend(transport, Self.update(on: server.baseURL))
        #expect(result == .failure(.timedOut("no complete response within 0.3 seconds")))
        #expect(elapsed >= .milliseconds(290) && elapsed < .seconds(1), "\(elapsed)")
        // Waiting is sleeping in curl_multi_poll, not polling.
        #expect(transport.threadCPUTime < .milliseconds(200))
    }

    @Test func requestHeadersGoOutAndTheAnswersHeadersAndBodyComeBack() async throws {
        let reply =
            "HTTP/1.1 201 Created\r\nX-Seen: one\r\nx-seen: two\r\nContent-Type: text/plain\r\n"
            + "Content-Length: 5\r\nConnection: close\r\n\r\nhello"
        let listener = try LoopbackListener(reply: Array(reply.utf8))
        defer { listener.stop() }
        let url = try #require(URL(string: "http://127.0.0.1:\(listener.port)"))
        let result = await Self.transport().send(Self.update(on: url))
        let response = try result.get()
        #expect(response.status == 201)
        #expect(response.header("X-Seen") == "one, two")
        #expect(response.header("content-type") == "text/plain")
        #expect(response.body == Data("hello".utf8))
        let sent = String(decoding: try #require(listener.firstBytes.first), as: UTF8.self)
        #expect(sent.hasPrefix("POST /v1/attributes/custom HTTP/1.1\r\n"))
        #expect(sent.contains("Authorization: Bearer \(testAPIKey)\r\n"))
        #expect(sent.contains("Content-Type: application/json\r\n"))
        #expect(sent.contains("User-Agent: referral-sync-attentive/1\r\n"))
        #expect(!sent.lowercased().contains("expect:"))
        #expect(sent.hasSuffix(#""user":{"email":"u0@example.com"}}"#))
    }

    @Test func aRefusedConnectionIsARetryableFailure() async throws {
        // A port that was just free: bound, then closed.
        let listener = try LoopbackListener(reply: [])
        let port = listener.port
        listener.stop()
        let url = try #require(URL(string: "http://127.0.0.1:\(port)"))
        let result = await Self.transport().send(Self.update(on: url))
        guard case .failure(.connection(let message)) = result else {
            Issue.record("expected a connection failure, got \(result)")
            return
        }
        #expect(message.hasPrefix("cannot connect to host"), "\(message)")
        #expect(message.hasSuffix("(curl 7)"), "\(message)")
    }

    @Test(.timeLimit(.minutes(1)))
    func connectionsAreKeptAliveAndBounded() async throws {
        let server = try DroppingServer(drop: .close, picks: { _ in false })
        defer { server.stop() }
        let transport = Self.transport(maxConnections: 2)
        let statuses = await withTaskGroup(of: Int?.self) { group in
            for index in 0..<24 {
                group.addTask { try? await transport.send(Self.update(on: server.baseURL, index)).get().status }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses.allSatisfy { $0 == 200 })
        #expect(server.requests == 24)
        #expect(server.connections <= 2)
    }
}
