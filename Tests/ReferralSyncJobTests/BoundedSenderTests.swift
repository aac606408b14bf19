import Attentive
import Foundation
import Synchronization
import Testing

@testable import ReferralSyncJob

/// The one send loop of every path to Attentive: the bound, the drain, and what a stop does. The requests here are
/// plain async work that counts how many run at once; no database and no Attentive are involved (the client only
/// shows whether the sender shut it down).
@Suite struct BoundedSenderTests {
    /// How many requests run now, and the most that ever ran at once.
    final class Occupancy: Sendable {
        private let counts = Mutex((now: 0, most: 0))
        func enter() {
            counts.withLock {
                $0.now += 1; $0.most = max($0.most, $0.now)
            }
        }
        func leave() { counts.withLock { $0.now -= 1 } }
        var most: Int { counts.withLock { $0.most } }
    }

    /// A request that holds its slot for a moment, so the requests overlap.
    static func request(_ number: Int, _ occupancy: Occupancy) -> BoundedSender.Request<Int> {
        {
            occupancy.enter()
            try? await Task.sleep(for: .milliseconds(2))
            occupancy.leave()
            return number
        }
    }

    /// A client whose only request goes to a closed loopback port, once, so it shows whether it was shut down:
    /// a shut-down client answers "not sent" at once, any other tries and fails to connect.
    static func closedPortClient() throws -> AttentiveClient {
        let closedPort = try #require(URL(string: "http://127.0.0.1:9"))
        var configuration = AttentiveClientConfiguration(baseURL: closedPort, apiKey: "k")
        configuration.retry.maxAttempts = 1
        configuration.requestTimeout = .seconds(5)
        return AttentiveClient(configuration: configuration)
    }

    /// Whether `client` was shut down: it answers a request "not sent" without trying.
    static func isShutDown(_ client: AttentiveClient) async -> Bool {
        if case .notSent = await client.sendCustomEvent(body: "{}") { return true }
        return false
    }

    @Test func neverRunsMoreThanTheBoundAndSettlesEveryAnswerOnce() async {
        let occupancy = Occupancy()
        let sender = BoundedSender(concurrency: 3, stopSignal: StopSignal(), shutsDown: nil)
        var settled: [Int] = []
        let fed = await sender.run(of: Int.self) { start in
            for number in 0..<40 { await start { Self.request(number, occupancy) } }
            return "fed"
        } settle: {
            settled.append($0)
        }
        #expect(fed == "fed")
        #expect(occupancy.most == 3)
        #expect(settled.sorted() == Array(0..<40))
    }

    @Test func aRequestPreparedAsNilStartsNothingAndTakesNoSlot() async {
        let occupancy = Occupancy()
        let sender = BoundedSender(concurrency: 1, stopSignal: StopSignal(), shutsDown: nil)
        var settled: [Int] = []
        await sender.run(of: Int.self) { start in
            for number in 0..<10 { await start { number.isMultiple(of: 2) ? Self.request(number, occupancy) : nil } }
        } settle: {
            settled.append($0)
        }
        #expect(settled.sorted() == [0, 2, 4, 6, 8])
        #expect(occupancy.most == 1)
    }

    @Test func afterAStopNothingNewStartsThoseInFlightAreSettledAndTheClientIsShutDown() async throws {
        let occupancy = Occupancy()
        let stopSignal = StopSignal()
        let client = try Self.closedPortClient()
        let sender = BoundedSender(concurrency: 4, stopSignal: stopSignal, shutsDown: client)
        var started = 0
        var settled: [Int] = []
        await sender.run(of: Int.self) { start in
            for number in 0..<100 {
                if stopSignal.stopRequest != nil { break }  // as every sender checks before it starts a request
                await start { Self.request(number, occupancy) }
                started += 1
                if started == 10 { stopSignal.receive(SIGTERM) }
            }
        } settle: {
            settled.append($0)
        }
        #expect(started == 10)
        #expect(settled.sorted() == Array(0..<10))
        #expect(await Self.isShutDown(client))
    }

    @Test func withoutAStopTheClientIsNotShutDown() async throws {
        let client = try Self.closedPortClient()
        let sender = BoundedSender(concurrency: 2, stopSignal: StopSignal(), shutsDown: client)
        var settled = 0
        await sender.run(of: Int.self) { start in
            for number in 0..<3 { await start { Self.request(number, Occupancy()) } }
        } settle: { _ in
            settled += 1
        }
        #expect(settled == 3)
        #expect(await !Self.isShutDown(client))
    }
}
