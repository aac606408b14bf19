import AttentiveSimulator
import Foundation
import TestSupport
import Testing

@testable import ReferralSyncCLI
@testable import ReferralSyncJob

/// Attentive (or what stands in front of it) answering nonsense: each case ends with the values synced or failed
/// (pending, retried next run), the job's exit status, and never a hang or a crash. Timeouts are short
/// (`--request-timeout 1`) so the tests stay quick; nothing here asserts on how long anything took.
@Suite struct AttentiveFaultTests {
    static let email = "ocean@example.com"

    static func harnessWithOneReferrer(_ configure: (inout SimulatorConfiguration) -> Void = { _ in }) async throws
        -> JobHarness
    {
        let harness = try await JobHarness(simulator: configure)
        try SyncBehaviourTests.oneReferrer(harness, email: email)
        return harness
    }

    @Test func aSuccessWithAnUnexpectedBodyIsAccepted() async throws {
        let harness = try await Self.harnessWithOneReferrer { $0.faults.unexpectedBodyRate = 1 }
        let (status, reports) = await harness.run()
        #expect(status == .success)
        let changes = try #require(reports).csv("changes.csv")
        #expect(changes.count == 4)
        #expect(changes.allSatisfy { $0["outcome"] == "synced" && $0["http_status"] == "200" })
        #expect(try harness.database.query("SELECT count(*) FROM referral_sync_ledger").first?.int(0) == 1)
    }

    @Test(arguments: [202, 204])
    func aSuccessOtherThan200IsAccepted(_ successStatus: Int) async throws {
        let harness = try await Self.harnessWithOneReferrer { $0.successStatus = successStatus }
        let (status, reports) = await harness.run()
        #expect(status == .success)
        let changes = try #require(reports).csv("changes.csv")
        #expect(changes.allSatisfy { $0["outcome"] == "synced" && $0["http_status"] == String(successStatus) })
        #expect(harness.simulator.profile(email: Self.email)?.attributes.count == 4)
        let (again, _) = await harness.run()
        #expect(again == .success)
        #expect(harness.simulator.statistics().requests == 1, "the ledger recorded the values: nothing is resent")
    }

    @Test func anHTMLErrorPageFromAProxyIsRetriedThenFailsReadably() async throws {
        let harness = try await Self.harnessWithOneReferrer { $0.faults.htmlErrorRate = 1 }
        let (status, reports, message) = await harness.runCapturingMessage(["--max-attempts", "2"])
        #expect(status == .needsAttention)
        #expect(message.contains("exit 1: 4 values failed and stay pending"))
        let changes = try #require(reports).csv("changes.csv")
        #expect(changes.count == 4)
        for change in changes {
            #expect(change["outcome"] == "failed")
            #expect(change["http_status"] == "502")
            #expect(change["attempts"] == "2")
            #expect(change["error"] == "HTML error page: 502 Bad Gateway")
        }
        #expect(try harness.database.query("SELECT count(*) FROM referral_sync_pending").first?.int(0) == 4)
    }

    @Test func aResponseThatNeverEndsIsCutOffByTheRequestTimeout() async throws {
        // The simulator would trickle for ten minutes; the run ends because the client bounds the whole exchange.
        let harness = try await Self.harnessWithOneReferrer {
            $0.faults.endlessBodyRate = 1
            $0.faults.hangSeconds = 600
        }
        let (status, reports, message) = await harness.runCapturingMessage([
            "--request-timeout", "1", "--max-attempts", "2",
        ])
        #expect(status == .unavailable)
        #expect(message.contains("exit 69: Attentive is unreachable: none of 2 attempts got an HTTP answer"))
        #expect(message.contains("timeouts: 2"))
        let changes = try #require(reports).csv("changes.csv")
        #expect(changes.allSatisfy { $0["outcome"] == "failed" && $0["attempts"] == "2" && $0["http_status"] == "" })
        #expect(changes.first?["error"]?.contains("1") == true)
        #expect(harness.simulator.statistics().faultsInjected["endlessBody"] == 2)
        #expect(harness.simulator.profiles().isEmpty)
    }

    @Test func aVerySlowResponseTimesOutAndIsSentAgainNextRun() async throws {
        let harness = try await Self.harnessWithOneReferrer { $0.latencyMilliseconds = 4000 }
        let (status, reports, message) = await harness.runCapturingMessage([
            "--request-timeout", "1", "--max-attempts", "1",
        ])
        #expect(status == .unavailable)
        #expect(message.contains("exit 69: Attentive is unreachable: none of 1 attempts got an HTTP answer"))
        let changes = try #require(reports).csv("changes.csv")
        #expect(changes.allSatisfy { $0["outcome"] == "failed" && $0["attempts"] == "1" })
        #expect(
            changes.first?["error"]?.contains("within") == true
                || changes.first?["error"]?.contains("timed out") == true)
        #expect(try harness.database.query("SELECT count(*) FROM referral_sync_ledger").first?.int(0) == 0)

        // Attentive may have applied the late request; the ledger did not record it, so the next run sends again
        // (an upsert of the same values) and records it.
        var healed = harness.simulator.configuration
        healed.latencyMilliseconds = 0
        harness.simulator.update(configuration: healed)
        let (retried, second) = await harness.run()
        #expect(retried == .success)
        #expect(try #require(second).csv("changes.csv").allSatisfy { $0["outcome"] == "synced" })
        #expect(try harness.database.query("SELECT count(*) FROM referral_sync_pending").first?.int(0) == 0)
    }

    @Test func tlsToAPlainListenerFailsClearlyAndSendsNothingInClear() async throws {
        let harness = try await Self.harnessWithOneReferrer()
        let listener = try LoopbackListener(
            reply: Array("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8))
        defer { listener.stop() }
        let (status, reports, message) = await harness.runCapturingMessage(
            ["--request-timeout", "5", "--max-attempts", "2"],
            environment: ["ATTENTIVE_BASE_URL": "https://127.0.0.1:\(listener.port)"])
        #expect(status == .unavailable)
        #expect(message.contains("exit 69: Attentive is unreachable"), "\(message)")
        let changes = try #require(reports).csv("changes.csv")
        #expect(
            changes.allSatisfy {
                $0["outcome"] == "failed" && ($0["error"] ?? "").contains("TLS handshake failed")
            })
        #expect(message.contains("last error: TLS handshake failed"), "\(message)")
        // Every connection opened with a TLS handshake record; no HTTP, key or email ever left in clear.
        let openings = listener.firstBytes
        #expect(!openings.isEmpty)
        for bytes in openings {
            #expect(bytes.first == 0x16, "a TLS handshake record")
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(!text.contains("POST") && !text.contains(harness.apiKey) && !text.contains(Self.email))
        }
    }

    @Test(.enabled(if: SelfSignedTLSServer.isAvailable))
    func aSelfSignedCertificateIsRefusedWithVerificationOn() async throws {
        let harness = try await Self.harnessWithOneReferrer()
        let server = try await SelfSignedTLSServer.start()
        defer { server.stop() }
        let (status, reports, message) = await harness.runCapturingMessage(
            ["--request-timeout", "5", "--max-attempts", "3"],
            environment: ["ATTENTIVE_BASE_URL": "https://127.0.0.1:\(server.port)"])
        #expect(status == .unavailable)
        #expect(message.contains("last error: TLS certificate problem"), "\(message)")
        #expect(message.contains("certificate"))
        let changes = try #require(reports).csv("changes.csv")
        // A certificate problem cannot be fixed by retrying: one attempt.
        #expect(changes.allSatisfy { $0["outcome"] == "failed" && $0["attempts"] == "1" })
        #expect(!server.output.contains("POST"))
    }

    @Test func aNULInAnErrorMessageDoesNotBreakTheRun() async throws {
        let harness = try await Self.harnessWithOneReferrer {
            $0.faults.badIdentities = [Self.email]
            $0.faults.rejectionMessage = "user\u{0}invalid"
            $0.faults.rejectionStatus = 404  // failed, not a refusal of the content (400)
        }
        let (status, reports) = await harness.run()
        #expect(status == .needsAttention)
        let changes = try #require(reports).csv("changes.csv")
        #expect(changes.count == 4)
        #expect(changes.allSatisfy { $0["outcome"] == "failed" && $0["error"] == "user\u{FFFD}invalid" })
        let pending = try harness.database.query("SELECT DISTINCT error FROM referral_sync_pending")
        #expect(pending.map { $0[0] } == ["user\u{FFFD}invalid"])
    }
}

/// `openssl s_server` with a fresh self-signed certificate on 127.0.0.1, for certificate-verification tests.
/// It exits by itself after two minutes or twenty connections at most.
final class SelfSignedTLSServer: @unchecked Sendable {
    static let openssl = "/usr/bin/openssl"
    static var isAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: openssl)
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/timeout")
    }

    let port: Int
    private let server: SpawnedProcess
    private let folder: String
    private let outputFile: String

    struct Failure: Error, CustomStringConvertible { var description: String }

    private init(port: Int, server: SpawnedProcess, folder: String, outputFile: String) {
        self.port = port
        self.server = server
        self.folder = folder
        self.outputFile = outputFile
    }

    /// Makes a certificate, starts the server and waits (without holding a pool thread) for its port.
    static func start() async throws -> SelfSignedTLSServer {
        let folder = try makeTemporaryFolder("tls")
        let outputFile = folder + "/server.log"
        let certificate = try await ChildProcess.run(
            openssl,
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-days", "1",
                "-keyout", folder + "/key.pem", "-out", folder + "/cert.pem",
            ], seconds: 60)
        guard certificate.status == 0 else { throw Failure(description: "openssl req: \(certificate.output)") }
        let server = try SpawnedProcess(
            "/usr/bin/timeout",
            [
                "120", openssl, "s_server", "-accept", "127.0.0.1:0", "-naccept", "20", "-cert",
                folder + "/cert.pem", "-key", folder + "/key.pem", "-www",
            ], outputPath: outputFile)
        var text = ""
        for _ in 0..<600 {
            try? await Task.sleep(for: .milliseconds(25))
            text = (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("ACCEPT ") }),
                let port = line.split(separator: ":").last.flatMap({ Int($0) })
            {
                return SelfSignedTLSServer(port: port, server: server, folder: folder, outputFile: outputFile)
            }
        }
        server.stop()
        throw Failure(description: "openssl s_server did not start: \(text)")
    }

    /// What the server printed.
    var output: String { (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? "" }

    func stop() {
        server.stop()
        try? FileManager.default.removeItem(atPath: folder)
    }
}
