import Foundation
import Testing

@testable import Attentive

/// How answers map to outcomes, over a scripted transport (no network, no real waiting).
@Suite("Client outcomes")
struct ClientOutcomeTests {
    @Test(arguments: [200, 201, 202, 204])
    func anySuccessStatusIsAccepted(status: Int) async {
        let transport = ScriptedTransport([.success(HTTPResponse(status: status, body: Data("not json at all".utf8)))])
        #expect(
            await scriptedClient(transport).sendCustomAttributes(sampleUpdate) == .accepted(status: status, attempts: 1)
        )
    }

    @Test(arguments: [400, 404, 409, 413, 422])
    func clientErrorsAreRejectedAfterOneAttempt(status: Int) async {
        let transport = ScriptedTransport([], then: jsonResponse(status, #"{"message":"nope"}"#))
        let client = scriptedClient(transport)
        #expect(
            await client.sendCustomAttributes(sampleUpdate) == .rejected(status: status, message: "nope", attempts: 1))
        #expect(transport.requestCount == 1)
        #expect(!client.isHalted)
    }

    @Test(arguments: [408, 429, 500, 502, 503, 504])
    func transientStatusesAreRetried(status: Int) async {
        let transport = ScriptedTransport([jsonResponse(status, "{}"), jsonResponse(status, "{}")])
        let client = scriptedClient(transport)
        #expect(await client.sendCustomAttributes(sampleUpdate) == .accepted(status: 200, attempts: 3))
        #expect(client.statistics().retries == 2)
        #expect(client.statistics().responsesByStatus[status] == 2)
    }

    @Test func timeoutsAndConnectionErrorsAreRetriedAndCounted() async {
        let transport = ScriptedTransport([.failure(.timedOut("slow")), .failure(.connection("reset"))])
        let client = scriptedClient(transport)
        #expect(await client.sendCustomAttributes(sampleUpdate) == .accepted(status: 200, attempts: 3))
        let statistics = client.statistics()
        #expect(statistics.timeouts == 1)
        #expect(statistics.connectionErrors == 1)
        #expect(statistics.requestsSent == 3)
    }

    @Test func persistentTimeoutsGiveUpWithoutAStatus() async {
        let transport = ScriptedTransport([], then: .failure(.timedOut("no complete response within 1 s")))
        let outcome = await scriptedClient(transport, fastConfiguration(maxAttempts: 2)).sendCustomAttributes(
            sampleUpdate)
        #expect(outcome == .gaveUp(lastStatus: nil, lastError: "no complete response within 1 s", attempts: 2))
    }

    @Test func fatalTransportErrorsAreNotRetried() async {
        let transport = ScriptedTransport([], then: .failure(.fatal("TLS certificate problem")))
        let outcome = await scriptedClient(transport).sendCustomAttributes(sampleUpdate)
        #expect(outcome == .gaveUp(lastStatus: nil, lastError: "TLS certificate problem", attempts: 1))
    }

    @Test(arguments: [401, 403])
    func unauthorizedHaltsTheClient(status: Int) async {
        let transport = ScriptedTransport([jsonResponse(status, #"{"message":"Unauthorized"}"#)])
        let client = scriptedClient(transport)
        #expect(
            await client.sendCustomAttributes(sampleUpdate) == .unauthorized(status: status, message: "Unauthorized"))
        #expect(client.isHalted)
        let later = await client.sendCustomAttributes(sampleUpdate)
        guard case .notSent(let reason) = later else {
            Issue.record("expected notSent, got \(later)")
            return
        }
        #expect(reason.contains("HTTP \(status)"))
        #expect(await client.submitBulk([sampleUpdate]) == .notSent(reason: reason))
        #expect(transport.requestCount == 1)
    }

    @Test func retryAfterIsHonouredForTheRetryDelay() async {
        let transport = ScriptedTransport([jsonResponse(429, "{}", headers: ["Retry-After": "0.2"])])
        let client = scriptedClient(transport)
        #expect(await client.sendCustomAttributes(sampleUpdate) == .accepted(status: 200, attempts: 2))
        #expect(client.statistics().retrySleep >= .milliseconds(200))
        #expect(client.statistics().tooManyRequests == 1)
    }

    @Test func updatesWithoutIdentifiersAreRefusedUnsent() async {
        let transport = ScriptedTransport([])
        let client = scriptedClient(transport)
        let anonymous = AttributeUpdate(user: AttentiveUser(email: "", phone: nil), properties: ["a": "b"])
        guard case .rejected(0, _, 0) = await client.sendCustomAttributes(anonymous) else {
            Issue.record("expected a local rejection")
            return
        }
        #expect(transport.requestCount == 0)
    }

    @Test func shutdownBeforeSendingMeansNotSent() async {
        let transport = ScriptedTransport([])
        let client = scriptedClient(transport)
        client.beginShutdown()
        #expect(await client.sendCustomAttributes(sampleUpdate) == .notSent(reason: "shutdown has begun"))
        #expect(await client.verifyKey() == .notSent(reason: "shutdown has begun"))
        #expect(transport.requestCount == 0)
    }

    @Test func shutdownWhileWaitingToRetryGivesUp() async throws {
        let transport = ScriptedTransport([], then: jsonResponse(503, #"{"message":"busy"}"#))
        // The first retry would wait its full 20 s ceiling.
        var configuration = fastConfiguration(maxAttempts: 3)
        configuration.retry.baseDelay = .seconds(20)
        configuration.retry.maxDelay = .seconds(20)
        let client = scriptedClient(transport, configuration)
        let sending = Task { await client.sendCustomAttributes(sampleUpdate) }
        while transport.requestCount == 0 { try await Task.sleep(for: .milliseconds(5)) }
        client.beginShutdown()
        let outcome = await sending.value
        guard case .gaveUp(503, let message, 1) = outcome else {
            Issue.record("expected gaveUp after 1 attempt, got \(outcome)")
            return
        }
        #expect(message.contains("shutdown"))
        #expect(transport.requestCount == 1)
    }

    @Test func verifyKeyMapsLikeASend() async {
        let transport = ScriptedTransport([jsonResponse(200, #"{"companyName":"X"}"#)])
        let client = scriptedClient(transport)
        #expect(await client.verifyKey() == .accepted(status: 200, attempts: 1))
        #expect(transport.requests.first?.url?.path == "/v1/me")
        #expect(transport.requests.first?.httpMethod == "GET")
    }

    @Test func lookupReturnsNilOn404AndAttributesOn200() async throws {
        let transport = ScriptedTransport([
            jsonResponse(404, #"{"message":"User not found"}"#),
            jsonResponse(200, #"[{"name":"referral_code","value":"ADA-42"}]"#),
            jsonResponse(200, "<<garbage>>"),
            jsonResponse(400, #"{"message":"Exactly one query parameter is required"}"#),
        ])
        let client = scriptedClient(transport)
        let user = AttentiveUser(email: "ada@example.com", phone: "+13115552368")
        #expect(try await client.customAttributes(of: user).get() == nil)
        #expect(try await client.customAttributes(of: user).get() == ["referral_code": "ADA-42"])
        let garbage = await client.customAttributes(of: user)
        #expect(garbage.failureKind == .unexpectedResponse)
        let rejected = await client.customAttributes(of: user)
        #expect(rejected.failureKind == .rejected)
        // Email is preferred; only one identifier is ever sent.
        #expect(transport.requests.first?.url?.query == "email=ada%40example.com")
        let none = await client.customAttributes(of: AttentiveUser(email: nil, phone: nil))
        #expect(none.failureKind == .invalidRequest)
    }

    @Test func bulkSubmissionIsValidatedLocally() async {
        let transport = ScriptedTransport([])
        let client = scriptedClient(transport)
        guard case .rejected(0, _) = await client.submitBulk([]) else {
            Issue.record("empty batch must be refused")
            return
        }
        guard case .rejected(0, let tooMany) = await client.submitBulk(Array(repeating: sampleUpdate, count: 257))
        else {
            Issue.record("257 updates must be refused")
            return
        }
        #expect(tooMany.contains("256"))
        let anonymous = AttributeUpdate(user: AttentiveUser(email: nil, phone: ""), properties: [:])
        guard case .rejected(0, let message) = await client.submitBulk([sampleUpdate, anonymous]) else {
            Issue.record("record without identifiers must be refused")
            return
        }
        #expect(message.contains("update 1"))
        #expect(transport.requestCount == 0)
    }

    @Test func bulkSubmissionMapsAnswers() async {
        let transport = ScriptedTransport([
            jsonResponse(202, #"{"message":"ok","batchJobId":"job-7"}"#),
            jsonResponse(202, #"{"message":"ok"}"#),
            jsonResponse(400, #"{"message":"users must contain between 1 and 256 items"}"#),
        ])
        let client = scriptedClient(transport)
        #expect(await client.submitBulk([sampleUpdate]) == .accepted(jobId: "job-7", attempts: 1))
        guard case .gaveUp(202, _, 1) = await client.submitBulk([sampleUpdate]) else {
            Issue.record("a 202 without job id is not an acceptance")
            return
        }
        #expect(
            await client.submitBulk([sampleUpdate])
                == .rejected(status: 400, message: "users must contain between 1 and 256 items"))
    }

    @Test func bulkJobStatusMapsAnswers() async throws {
        let transport = ScriptedTransport([
            jsonResponse(200, #"{"status":"IN_PROGRESS"}"#),
            jsonResponse(200, #"{"status":"PENDING"}"#),
            jsonResponse(200, #"{"status":"COMPLETED","url":"/__results/j.jsonl"}"#),
            jsonResponse(200, #"{"status":"COMPLETED"}"#),
            jsonResponse(200, #"{"status":"FAILED","error":"bad file"}"#),
            jsonResponse(404, #"{"message":"Bulk job not found"}"#),
            jsonResponse(200, #"{"no":"status"}"#),
            jsonResponse(403, #"{"message":"Access Denied"}"#),
        ])
        let client = scriptedClient(transport)
        #expect(await client.bulkJobStatus(jobId: "j") == .inProgress("IN_PROGRESS"))
        #expect(await client.bulkJobStatus(jobId: "j") == .inProgress("PENDING"))
        let resolved = try #require(URL(string: "https://api.example.test/__results/j.jsonl"))
        #expect(await client.bulkJobStatus(jobId: "j") == .completed(resultsURL: resolved))
        #expect(await client.bulkJobStatus(jobId: "j") == .completed(resultsURL: nil))
        #expect(await client.bulkJobStatus(jobId: "j") == .failed("FAILED: bad file"))
        #expect(await client.bulkJobStatus(jobId: "j") == .unknownJob)
        guard case .error = await client.bulkJobStatus(jobId: "j") else {
            Issue.record("a body without status is an error")
            return
        }
        guard case .error(let denied) = await client.bulkJobStatus(jobId: "a/b") else {
            Issue.record("403 is an error")
            return
        }
        #expect(denied.contains("403"))
        #expect(client.isHalted)
        #expect(transport.requests.last?.url?.absoluteString.hasSuffix("/v2/bulk/job/a%2Fb") == true)
    }
}

extension Result where Failure == AttentiveError {
    /// The error kind of a failure, `nil` on success.
    var failureKind: AttentiveError.Kind? {
        if case .failure(let error) = self { return error.kind }
        return nil
    }
}

@Suite("Bulk results download")
struct BulkResultsDownloadTests {
    @Test func foreignHostGetsNoKeyAndItsDenialDoesNotHalt() async throws {
        let transport = ScriptedTransport([
            .success(HTTPResponse(status: 403, body: Data("<Error><Code>AccessDenied</Code></Error>".utf8)))
        ])
        let client = scriptedClient(transport)
        let url = try #require(URL(string: "https://storage.example.test/results/j.jsonl?signature=abc"))
        let result = await client.bulkResults(at: url)
        #expect(result.failureKind == .rejected)
        #expect(!client.isHalted)
        #expect(transport.requests.first?.value(forHTTPHeaderField: "Authorization") == nil)
    }

    @Test func ownHostDenialHalts() async throws {
        let transport = ScriptedTransport([jsonResponse(401, #"{"message":"Unauthorized"}"#)])
        let client = scriptedClient(transport)
        let url = try #require(URL(string: "https://api.example.test/results/j.jsonl"))
        #expect(await client.bulkResults(at: url).failureKind == .unauthorized)
        #expect(client.isHalted)
    }
}
