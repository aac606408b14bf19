import AttentiveSimulator
import Foundation
import TestSupport
import Testing

/// The faults that end a connection instead of answering, seen from a raw socket: what the client reads (nothing)
/// and how the connection ends (a FIN, an RST, or not at all).
@Suite("connection faults on the wire")
struct ConnectionFaultTests {
    /// The request faults that end a connection with a FIN or an RST, and how the client sees them.
    enum EndingFault: CaseIterable, Sendable {
        case shutdown, reset, plainClose

        func enable(in faults: inout FaultMix, rate: Double) {
            switch self {
            case .shutdown: faults.shutdownAfterRequestRate = rate
            case .reset: faults.resetConnectionRate = rate
            case .plainClose: faults.dropConnectionRate = rate
            }
        }

        var ending: LoopbackSocket.Ending { self == .reset ? .reset : .closedByPeer }

        /// Its key in `SimulatorStatistics.faultsInjected`.
        var countedAs: String {
            switch self {
            case .shutdown: "shutdownAfterRequest"
            case .reset: "resetConnection"
            case .plainClose: "dropConnection"
            }
        }
    }

    /// A keep-alive `POST /v1/attributes/custom` for `email`.
    static func post(_ email: String, close: Bool = false) -> String {
        let body = customAttributesBody(email: email)
        return
            "POST /v1/attributes/custom HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(SimulatorHarness.apiKey)\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
            + (close ? "Connection: close\r\n" : "") + "\r\n\(body)"
    }

    /// Sends one request on a new connection and reads until the server ends it (at most `seconds`).
    static func exchange(_ harness: SimulatorHarness, _ request: String, seconds: Double = 10) async throws -> (
        received: String, ending: LoopbackSocket.Ending
    ) {
        let port = harness.simulator.port
        return try await LoopbackSocket.onOwnThread {
            let connection = try LoopbackConnection(port: port)
            try connection.send(request)
            let (received, ending) = connection.receive(seconds: seconds)
            return (String(decoding: received, as: UTF8.self), ending)
        }
    }

    @Test(
        "after the request: shutdown and a plain close give EOF, a reset ECONNRESET; no answer, store unchanged",
        arguments: EndingFault.allCases)
    func endsTheConnection(fault: EndingFault) async throws {
        let harness = try SimulatorHarness { fault.enable(in: &$0.faults, rate: 1) }
        defer { harness.shutdown() }
        let (received, ending) = try await Self.exchange(harness, Self.post("ended@example.com"))
        #expect(received.isEmpty)
        #expect(ending == fault.ending)
        #expect(harness.simulator.profiles().isEmpty)
        #expect(harness.simulator.statistics().faultsInjected[fault.countedAs] == 1)
    }

    @Test("half-open: never answered and never closed, even after the client's FIN, until the simulator stops")
    func halfOpen() async throws {
        let harness = try SimulatorHarness { $0.faults.halfOpenRate = 1 }
        defer { harness.shutdown() }
        let port = harness.simulator.port
        let request = Self.post("half@example.com")
        let connection = try LoopbackConnection(port: port)
        let (silent, whileOpen, afterFIN) = try await LoopbackSocket.onOwnThread {
            try connection.send(request)
            let (silent, whileOpen) = connection.receive(seconds: 1.5)
            connection.finishSending()
            let (_, afterFIN) = connection.receive(seconds: 1)
            return (silent, whileOpen, afterFIN)
        }
        #expect(silent.isEmpty)
        #expect(whileOpen == .stillOpen)
        #expect(afterFIN == .stillOpen, "the server does not notice the client leaving")
        #expect(harness.simulator.statistics().faultsInjected["halfOpen"] == 1)
        #expect(harness.simulator.profiles().isEmpty)
        harness.simulator.stop()
        let (_, afterStop) = try await LoopbackSocket.onOwnThread { connection.receive(seconds: 5) }
        #expect(afterStop != .stillOpen, "stopping the simulator closes parked connections")
    }

    @Test("a half-open connection is closed after hangSeconds")
    func halfOpenEnds() async throws {
        let harness = try SimulatorHarness {
            $0.faults.halfOpenRate = 1
            $0.faults.hangSeconds = 1
        }
        defer { harness.shutdown() }
        let (received, ending) = try await Self.exchange(harness, Self.post("half@example.com"), seconds: 10)
        #expect(received.isEmpty)
        #expect(ending == .closedByPeer)
    }

    @Test("an idle keep-alive connection is closed after idleCloseSeconds; a prompt next request keeps it")
    func idleClose() async throws {
        let harness = try SimulatorHarness { $0.faults.idleCloseSeconds = 0.4 }
        defer { harness.shutdown() }
        let port = harness.simulator.port
        let (first, second, ending, idle) = try await LoopbackSocket.onOwnThread {
            let connection = try LoopbackConnection(port: port)
            try connection.send(Self.post("idle1@example.com"))
            let first = connection.receive(upTo: "Content-Length: 0\r\nConnection: keep-alive\r\n\r\n", seconds: 5)
            try connection.send(Self.post("idle2@example.com"))
            let second = connection.receive(upTo: "Content-Length: 0\r\nConnection: keep-alive\r\n\r\n", seconds: 5)
            let idleFrom = Date()
            let (_, ending) = connection.receive(seconds: 10)
            return (first, second, ending, Date().timeIntervalSince(idleFrom))
        }
        #expect(first.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(second.hasPrefix("HTTP/1.1 200 OK\r\n"), "a request within the idle time is served")
        #expect(ending == .closedByPeer)
        #expect(idle > 0.3 && idle < 5, "closed after about 0.4 s of idleness, took \(idle)")
        #expect(harness.simulator.profiles().count == 2)
        #expect(harness.simulator.statistics().faultsInjected["idleClose"] == 1)
    }

    @Test("with idleCloseRate 0 an idle keep-alive connection stays open")
    func idleCloseRateZero() async throws {
        let harness = try SimulatorHarness {
            $0.faults.idleCloseSeconds = 0.2
            $0.faults.idleCloseRate = 0
        }
        defer { harness.shutdown() }
        let port = harness.simulator.port
        let ending = try await LoopbackSocket.onOwnThread {
            let connection = try LoopbackConnection(port: port)
            try connection.send(Self.post("open@example.com"))
            _ = connection.receive(upTo: "Connection: keep-alive\r\n\r\n", seconds: 5)
            return connection.receive(seconds: 1).ending
        }
        #expect(ending == .stillOpen)
        #expect(harness.simulator.statistics().faultsInjected["idleClose"] == nil)
    }

    @Test("a share of requests is faulted, the same ones for the same seed", arguments: EndingFault.allCases)
    func deterministicShare(fault: EndingFault) async throws {
        let harness = try SimulatorHarness {
            fault.enable(in: &$0.faults, rate: 0.2)
            $0.seed = 7
        }
        defer { harness.shutdown() }
        func faultedRequests() async throws -> [Int] {
            var faulted: [Int] = []
            for index in 0..<40 {
                let (received, end) = try await Self.exchange(harness, Self.post("u\(index)@example.com", close: true))
                if received.isEmpty {
                    #expect(end == fault.ending)
                    faulted.append(index)
                } else {
                    #expect(received.hasPrefix("HTTP/1.1 200 OK\r\n"))
                }
            }
            return faulted
        }
        let first = try await faultedRequests()
        harness.simulator.reset()
        let second = try await faultedRequests()
        #expect(first == second)
        #expect((2...18).contains(first.count), "about 20% of 40, got \(first.count)")
        #expect(harness.simulator.profiles().count == 40 - first.count)
    }

    @Test("the connection faults are set at run time through POST /__simulator/config like the others")
    func configuredAtRunTime() async throws {
        let harness = try SimulatorHarness()
        defer { harness.shutdown() }
        let faults =
            #"{"faults":{"resetConnectionRate":1,"shutdownAfterRequestRate":0,"halfOpenRate":0,"#
            + #""idleCloseSeconds":2.5,"idleCloseRate":0.5}}"#
        let answer = try await harness.send("POST", "/__simulator/config", body: faults, key: nil)
        #expect(answer.status == 200)
        #expect(harness.simulator.configuration.faults.idleCloseSeconds == 2.5)
        #expect(harness.simulator.configuration.faults.idleCloseRate == 0.5)
        let (received, ending) = try await Self.exchange(harness, Self.post("late@example.com"))
        #expect(received.isEmpty)
        #expect(ending == .reset)
    }
}
