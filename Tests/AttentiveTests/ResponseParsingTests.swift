import Foundation
import Testing

@testable import Attentive

@Suite("Response parsing")
struct ResponseParsingTests {
    private let redactor = Redactor(secret: testAPIKey)

    private func summary(_ status: Int, _ body: String, contentType: String? = nil) -> String {
        ResponseMessage.summarize(status: status, body: Data(body.utf8), contentType: contentType, redactor: redactor)
    }

    @Test func jsonMessageIsExtracted() {
        #expect(
            summary(400, #"{"message":"properties.x: arrays are not supported"}"#)
                == "properties.x: arrays are not supported")
        #expect(summary(400, #"{"error":"Bad Request","message":"phone invalid"}"#) == "Bad Request: phone invalid")
        #expect(summary(400, #"{"errors":[{"message":"a"},{"message":"b"}]}"#) == "a; b")
    }

    @Test func htmlPageIsSummarisedNotDumped() {
        let page = """
            <html>
            <head><title>502 Bad Gateway</title></head>
            <body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body>
            </html>
            """
        let message = summary(502, page, contentType: "text/html")
        #expect(message == "HTML error page: 502 Bad Gateway")
        #expect(
            summary(503, "<html><body><h1>Service   Unavailable</h1></body></html>")
                == "HTML error page: Service Unavailable")
    }

    @Test func longBodiesAreBoundedAndWhitespaceCollapsed() {
        let message = summary(500, String(repeating: "x ", count: 2000))
        #expect(message.count <= ResponseMessage.maxLength)
        #expect(message.hasSuffix("…"))
        #expect(summary(500, "  line one\n\n line two  ") == "line one line two")
        #expect(summary(500, "") == "HTTP 500 with an empty body")
    }

    @Test func customAttributesParseTheNameQuirk() {
        let body = Data(
            #"[{"name":"referral_code","value":"ADA-42"},{"attribute":"n","value":3},{"name":"vip","value":true}]"#.utf8
        )
        #expect(ResponseBody.customAttributes(body) == ["referral_code": "ADA-42", "n": "3", "vip": "true"])
        #expect(ResponseBody.customAttributes(Data("[]".utf8)) == [:])
        #expect(ResponseBody.customAttributes(Data()) == [:])
        #expect(ResponseBody.customAttributes(Data(#"{"attributes":[{"name":"a","value":"b"}]}"#.utf8)) == ["a": "b"])
        #expect(ResponseBody.customAttributes(Data("not json".utf8)) == nil)
    }

    @Test func bulkJobIdIsRead() {
        #expect(ResponseBody.bulkJobId(Data(#"{"message":"ok","batchJobId":"job-1"}"#.utf8)) == "job-1")
        #expect(ResponseBody.bulkJobId(Data(#"{"bulkJobId":"job-2"}"#.utf8)) == "job-2")
        #expect(ResponseBody.bulkJobId(Data(#"{"message":"ok"}"#.utf8)) == nil)
    }

    @Test func jobStatusIsRead() {
        let status = ResponseBody.jobStatus(
            Data(#"{"bulkJobId":"j","status":"COMPLETED","totalRecords":3,"url":"https://x/r.jsonl"}"#.utf8))
        #expect(status == .init(status: "COMPLETED", url: "https://x/r.jsonl", message: nil))
    }

    @Test func resultsFileIsParsedLeniently() {
        let body = """
            {"index":0,"identifiers":{"email":"a@x.io"},"status":"SUCCESS"}

            {"index":"1","identifiers":{"phone":"+13115552368"},"status":"FAILURE","error":"identifiers identifier is invalid"}
            this line is not json
            {"identifiers":{"email":"c@x.io"},"success":true}
            {"index":3,"user":{"email":"d@x.io"},"statusCode":500,"errors":[{"message":"boom"}]}
            {"index":4,"identifiers":{"email":"e@x.io"},"status":"WEIRD"}
            """
        let results = ResponseBody.bulkResults(Data(body.utf8))
        #expect(results.count == 5)
        #expect(
            results[0]
                == BulkRecordResult(
                    index: 0, identifiers: .init(email: "a@x.io", phone: nil), succeeded: true, error: nil))
        #expect(
            results[1]
                == BulkRecordResult(
                    index: 1, identifiers: .init(email: nil, phone: "+13115552368"), succeeded: false,
                    error: "identifiers identifier is invalid"))
        #expect(results[2].index == 2)
        #expect(results[2].succeeded)
        #expect(
            results[3]
                == BulkRecordResult(
                    index: 3, identifiers: .init(email: "d@x.io", phone: nil), succeeded: false, error: "boom"))
        #expect(results[4].succeeded == false)
        #expect(results[4].error == "record failed without a message")
    }

    @Test func resultsAsAJSONArrayAreAccepted() {
        let results = ResponseBody.bulkResults(Data(#"[{"index":0,"status":"SUCCESS","email":"a@x.io"}]"#.utf8))
        #expect(
            results == [
                BulkRecordResult(index: 0, identifiers: .init(email: "a@x.io", phone: nil), succeeded: true, error: nil)
            ])
    }
}
