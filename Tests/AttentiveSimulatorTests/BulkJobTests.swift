import AttentiveSimulator
import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite("v2 bulk user attributes")
struct BulkJobTests {
    @Test("submit, poll until COMPLETED, fetch results; a bad identity fails only its record")
    func lifecycle() async throws {
        let harness = try SimulatorHarness {
            $0.bulkCompletionDelayMilliseconds = 100
            $0.faults.badIdentities = ["bad@example.com"]
        }
        defer { harness.shutdown() }
        let body = """
            {"users":[
              {"identifiers":{"email":"one@example.com","phone":"+13115550001"},
               "attributes":{"custom":{"referral_code":"ONE","referrals":3,"vip":false}}},
              {"identifiers":{"email":"bad@example.com"},"attributes":{"custom":{"referral_code":"BAD"}}},
              {"identifiers":{"phone":"5550002"},"attributes":{"custom":{"referral_code":"PHONE"}}},
              {"identifiers":{"email":"arr@example.com"},"attributes":{"custom":{"list":[1,2]}}},
              {"identifiers":{"email":"two@example.com"},"attributes":{"firstName":"Two","custom":{"code":"TWO"}}}
            ]}
            """
        let submitted = try await harness.send("POST", "/v2/bulk/user/attributes", body: body)
        #expect(submitted.status == 202)
        #expect(submitted.header("x-ratelimit-limit") != nil)
        let id = try #require(try submitted.jsonObject()["batchJobId"] as? String)

        let status = try await harness.waitForBulkJob(id)
        #expect(status["bulkJobId"] as? String == id)
        #expect(status["totalRecords"] as? Int == 5)
        let url = try #require((status["url"] as? String).flatMap(URL.init(string:)))
        #expect(url.path.hasSuffix("\(id).jsonl"))

        let results = try await harness.send(URLRequest(url: url))
        #expect(results.status == 200)
        let lines = results.text.split(separator: "\n").map { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
        }
        #expect(lines.count == 5)
        #expect(lines.map { $0["index"] as? Int } == [0, 1, 2, 3, 4])
        #expect(lines.map { $0["status"] as? String } == ["SUCCESS", "FAILURE", "FAILURE", "FAILURE", "SUCCESS"])
        #expect(lines[0]["error"] == nil)
        #expect(lines[1]["error"] is String)
        #expect((lines[1]["identifiers"] as? [String: Any])?["email"] as? String == "bad@example.com")

        #expect(
            harness.simulator.profiles() == [
                SimulatedProfile(
                    email: "one@example.com", phone: "+13115550001",
                    attributes: ["referral_code": "ONE", "referrals": "3", "vip": "false"]),
                SimulatedProfile(email: "two@example.com", attributes: ["code": "TWO"]),
            ])
        let statistics = harness.simulator.statistics()
        #expect(statistics.acceptedBulkRecords == 2)
        #expect(statistics.bulkJobsSubmitted == 1)
        #expect(statistics.faultsInjected["badIdentity"] == 1)
    }

    @Test("records are applied only when the job completes")
    func appliedAtCompletion() async throws {
        let harness = try SimulatorHarness { $0.bulkCompletionDelayMilliseconds = 120_000 }
        defer { harness.shutdown() }
        let body = #"{"users":[{"identifiers":{"email":"later@example.com"},"attributes":{"custom":{"a":"1"}}}]}"#
        let submitted = try await harness.send("POST", "/v2/bulk/user/attributes", body: body)
        let id = try #require(try submitted.jsonObject()["batchJobId"] as? String)
        let status = try await harness.send("GET", "/v2/bulk/job/\(id)").jsonObject()
        #expect(status["status"] as? String == "IN_PROGRESS")
        #expect(status["url"] == nil)
        #expect(harness.simulator.profile(email: "later@example.com") == nil)
        let early = try await harness.send("GET", "/__simulator/bulk-results/\(id).jsonl", key: nil)
        #expect(early.status == 404)
    }

    static let oneUser = #"{"identifiers":{"email":"x@example.com"}}"#
    static let invalidEnvelopes: [(String, String)] = [
        ("no users", #"{"users":[]}"#),
        ("too many users", #"{"users":[\#(Array(repeating: oneUser, count: 257).joined(separator: ","))]}"#),
        ("users missing", #"{"people":[]}"#),
        ("users not an array", #"{"users":{"identifiers":{"email":"x@example.com"}}}"#),
        ("user not an object", #"{"users":["x@example.com"]}"#),
        ("not JSON", "users"),
    ]

    @Test("invalid envelopes get 400", arguments: invalidEnvelopes)
    func invalidEnvelope(_ testCase: (String, String)) async throws {
        let harness = try SimulatorHarness()
        defer { harness.shutdown() }
        let response = try await harness.send("POST", "/v2/bulk/user/attributes", body: testCase.1)
        #expect(response.status == 400, "\(testCase.0)")
        #expect(harness.simulator.statistics().bulkJobsSubmitted == 0)
    }

    @Test("256 users are accepted")
    func maximumBatch() async throws {
        let harness = try SimulatorHarness { $0.bulkCompletionDelayMilliseconds = 0 }
        defer { harness.shutdown() }
        let users = (0..<256).map {
            #"{"identifiers":{"email":"u\#($0)@example.com"},"attributes":{"custom":{"n":\#($0)}}}"#
        }
        let response = try await harness.send(
            "POST", "/v2/bulk/user/attributes", body: #"{"users":[\#(users.joined(separator: ","))]}"#)
        #expect(response.status == 202)
        let id = try #require(try response.jsonObject()["batchJobId"] as? String)
        _ = try await harness.waitForBulkJob(id)
        #expect(harness.simulator.profiles().count == 256)
        #expect(harness.simulator.profile(email: "u255@example.com")?.attributes == ["n": "255"])
    }

    @Test("unknown jobs are 404")
    func unknownJob() async throws {
        let harness = try SimulatorHarness()
        defer { harness.shutdown() }
        #expect(try await harness.send("GET", "/v2/bulk/job/no-such-job").status == 404)
        #expect(try await harness.send("GET", "/__simulator/bulk-results/no-such-job.jsonl", key: nil).status == 404)
    }
}
