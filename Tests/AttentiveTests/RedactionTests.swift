import Foundation
import Testing

@testable import Attentive

@Suite("API key redaction")
struct RedactionTests {
    private var configuration: AttentiveClientConfiguration {
        AttentiveClientConfiguration(baseURL: testBaseURL, apiKey: testAPIKey)
    }

    @Test func configurationDescriptionsHideTheKey() {
        let texts = [
            configuration.description,
            configuration.debugDescription,
            String(describing: configuration),
            String(reflecting: configuration),
            "\(configuration)",
        ]
        for text in texts {
            #expect(!text.contains(testAPIKey))
            #expect(text.contains("<redacted>"))
            #expect(text.contains("api.example.test"))
        }
    }

    @Test func dumpHidesTheKey() {
        var dumped = ""
        dump(configuration, to: &dumped)
        #expect(!dumped.contains(testAPIKey))
        let mirrored = Mirror(reflecting: configuration).children.map { "\($0.label ?? ""): \($0.value)" }
        #expect(!mirrored.joined().contains(testAPIKey))
    }

    @Test func keyInTheBaseURLIsHidden() throws {
        let url = try #require(URL(string: "https://user:\(testAPIKey)@api.example.test/?token=\(testAPIKey)"))
        let configuration = AttentiveClientConfiguration(baseURL: url, apiKey: testAPIKey)
        #expect(!configuration.description.contains(testAPIKey))
    }

    @Test func echoedKeyIsRedactedFromRejections() async {
        let transport = ScriptedTransport([jsonResponse(400, #"{"message":"bad token \#(testAPIKey) for user"}"#)])
        let outcome = await scriptedClient(transport).sendCustomAttributes(sampleUpdate)
        guard case .rejected(400, let message, 1) = outcome else {
            Issue.record("expected rejected, got \(outcome)")
            return
        }
        #expect(!message.contains(testAPIKey))
        #expect(message == "bad token <redacted> for user")
    }

    @Test func echoedKeyIsRedactedFromUnauthorizedAndHaltReasons() async {
        let transport = ScriptedTransport([
            .success(HTTPResponse(status: 401, body: Data("Bearer \(testAPIKey) invalid".utf8)))
        ])
        let client = scriptedClient(transport)
        let first = await client.sendCustomAttributes(sampleUpdate)
        let second = await client.sendCustomAttributes(sampleUpdate)
        let lookup = await client.customAttributes(of: sampleUpdate.user)
        for text in ["\(first)", "\(second)", "\(lookup)", String(reflecting: first)] {
            #expect(!text.contains(testAPIKey))
        }
    }

    @Test func errorsAndStatisticsNeverContainTheKey() async {
        let transport = ScriptedTransport([], then: .failure(.connection("refused \(testAPIKey)")))
        let client = scriptedClient(transport, fastConfiguration(maxAttempts: 2))
        let result = await client.customAttributes(of: sampleUpdate.user)
        guard case .failure(let error) = result else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.kind == .unavailable)
        #expect(!error.description.contains(testAPIKey))
        #expect(!client.statistics().description.contains(testAPIKey))
    }
}
