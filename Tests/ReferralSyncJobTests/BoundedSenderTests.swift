import Attentive
import Foundation
import Synchronization
import TestSupport
import Testing

@testable import ReferralSyncJob

/// The one send loop of every path to Attentive: the bound, the drain, and what a stop does. The requests here are
/// plain async work that counts how many run at once; no database and no Attentive are involved.
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

    /// One value for one user, as a run sends it.
    static func update(_ number: Int) -> AttributeUpdate {
        AttributeUpdate(
            user: AttentiveUser(email: "user\(number)@example.com", phone: nil),
            properties: ["Referral Count": String(number)])
    }

    /// A client of the simulator `harness` runs.
    static func client(of harness: SimulatorHarness) -> AttentiveClient {
        AttentiveClient(
            configuration: AttentiveClientConfiguration(
                baseURL: harness.simulator.baseURL, apiKey: SimulatorHarness.apiKey))
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
        let harness = try SimulatorHarness()
        defer { harness.shutdown() }
        let client = Self.client(of: harness)
        let stopSignal = StopSignal()
        let sender = BoundedSender(concurrency: 4, stopSignal: stopSignal, shutsDown: client)
        var started = 0
        var accepted = 0
        var notSent = 0
        await sender.run(of: DeliveryOutcome.self) { start in
            for number in 0..<100 {
                if stopSignal.stopRequest != nil { break }  // as every sender checks before it starts a request
                await start { { await client.sendCustomAttributes(Self.update(number)) } }
                started += 1
                if started == 10 { stopSignal.receive(SIGTERM) }
            }
        } settle: { outcome in
            switch outcome {
            case .accepted: accepted += 1
            case .notSent: notSent += 1
            default: Issue.record("unexpected answer \(outcome)")
            }
        }
        // Every request started is answered and settled: sent and accepted, or (still waiting for its turn at the
        // client's pace when the client shut down) answered "not sent" without reaching Attentive.
        #expect(started == 10)
        #expect(accepted + notSent == 10)
        #expect(harness.simulator.statistics().requests == accepted)
        guard case .notSent = await client.sendCustomAttributes(Self.update(100)) else {
            Issue.record("the client still sends after the stop")
            return
        }
    }

    @Test func withoutAStopTheClientKeepsSending() async throws {
        let harness = try SimulatorHarness()
        defer { harness.shutdown() }
        let client = Self.client(of: harness)
        let sender = BoundedSender(concurrency: 2, stopSignal: StopSignal(), shutsDown: client)
        var accepted = 0
        await sender.run(of: DeliveryOutcome.self) { start in
            for number in 0..<3 { await start { { await client.sendCustomAttributes(Self.update(number)) } } }
        } settle: { outcome in
            if case .accepted = outcome { accepted += 1 }
        }
        #expect(accepted == 3)
        guard case .accepted = await client.sendCustomAttributes(Self.update(3)) else {
            Issue.record("the client was shut down without a stop")
            return
        }
    }
}
