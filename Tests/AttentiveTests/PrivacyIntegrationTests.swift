import AttentiveSimulator
import Foundation
import Testing

@testable import Attentive

/// Deletion requests against the simulator: filed with the spec's body, read back, retried like any request.
@Suite("Privacy requests against the simulator")
struct PrivacyIntegrationTests {
    @Test func requestDeletionFilesOneRequestPerIdentityAndReadsItProcessed() async throws {
        try await withSimulator { simulator, client in
            let email = try await client.requestDeletion(of: .email("ann@example.com"), message: "erasure").get()
            let phone = try await client.requestDeletion(of: .phone("+13115550001"), message: nil).get()
            let filed = simulator.privacyRequests().map {
                [$0.id, $0.subjectEmail ?? "-", $0.subjectPhone ?? "-", $0.clientUserId ?? "-", $0.requestMsg ?? "-"]
            }
            #expect(
                filed == [[email, "ann@example.com", "-", "-", "erasure"], [phone, "-", "+13115550001", "-", "-"]])
            let status = try await client.deletionStatus(requestId: email).get()
            #expect(status.id == email)
            #expect(status.processed)
            #expect(status.processingEndDateTime != nil)
        }
    }

    @Test func aRequestWithinTheProcessingDelayReadsUnprocessed() async throws {
        try await withSimulator({ $0.privacyProcessingDelayMilliseconds = 600_000 }) { _, client in
            let id = try await client.requestDeletion(of: .email("bob@example.com"), message: nil).get()
            #expect(try await client.deletionStatus(requestId: id).get().processed == false)
        }
    }

    @Test func serverErrorsAreRetriedAndAnUnknownIdIsRejected() async throws {
        try await withSimulator({ $0.faults.internalErrorRate = 0.6 }) { simulator, client in
            let id = try await client.requestDeletion(of: .email("cy@example.com"), message: nil).get()
            #expect(simulator.privacyRequests().map(\.id) == [id])
            #expect(try await client.deletionStatus(requestId: id).get().processed)
            #expect(simulator.statistics().faultsInjected["internalError", default: 0] > 0)
            var calm = simulator.configuration
            calm.faults.internalErrorRate = 0
            simulator.update(configuration: calm)
            let unknown = await client.deletionStatus(requestId: "no-such-request")
            #expect(throws: AttentiveError.self) { try unknown.get() }
            if case .failure(let failure) = unknown {
                #expect(failure.kind == .rejected)
                #expect(failure.status == 404)
            }
        }
    }

    @Test func theBodyCarriesOneSubjectAndTheAuditMessage() throws {
        let body = try RequestBody.deleteRequest(.phone("+13115550001"), message: "erasure 7")
        #expect(String(decoding: body, as: UTF8.self) == #"{"requestMsg":"erasure 7","subjectPhone":"+13115550001"}"#)
        let bare = try RequestBody.deleteRequest(.email("a@example.com"), message: nil)
        #expect(String(decoding: bare, as: UTF8.self) == #"{"subjectEmail":"a@example.com"}"#)
    }
}
