import Foundation
import Testing

@testable import AttentiveSimulator

@Suite("parsers and building blocks")
struct ParsingTests {
    @Test("JSON numbers keep their literal text and strings decode escapes")
    func jsonParsing() throws {
        let value = try OrderedJSONParser.parse(
            Array(#"{"a": 50.89, "b": -1e3, "c": "x\"\u00e9\ud83d\ude00", "d": [true, null]}"#.utf8))
        #expect(value["a"] == .number("50.89"))
        #expect(value["b"] == .number("-1e3"))
        #expect(value["c"] == .string("x\"é😀"))
        #expect(value["d"] == .array([.bool(true), .null]))
        #expect(try OrderedJSONParser.parse(Array(value.serialized().utf8)) == value)
    }

    @Test(
        "malformed JSON is rejected",
        arguments: ["", "{", "{\"a\":}", "[1,]", "01", "{\"a\":1} x", "\"\u{01}\"", "tru"])
    func jsonRejects(_ text: String) {
        #expect(throws: JSONParseError.self) { try OrderedJSONParser.parse(Array(text.utf8)) }
    }

    @Test("E.164 validation")
    func e164() {
        for valid in ["+13115552368", "+442071838750", "+1234567"] { #expect(AttributeValidation.isE164(valid)) }
        for invalid in [
            "13115552368", "+0123456789", "+1---914---844---0001", "+123456", "+1234567890123456", " +13115552368",
        ] {
            #expect(!AttributeValidation.isE164(invalid), "\(invalid)")
        }
    }

    @Test("request heads, Content-Length and chunked framing")
    func httpParsing() throws {
        let head = try HTTPParser.parseHead(
            ArraySlice("POST /v1/attributes/custom?email=a%40b.c HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n".utf8))
        #expect(head.method == "POST")
        #expect(head.header("host") == "x")
        #expect(try HTTPParser.framing(of: head) == .contentLength(12))
        let request = HTTPRequest(
            method: "GET", target: "/p%20q?phone=%2B1&x=a+b", version: "HTTP/1.1", headers: [], body: [])
        #expect(request.path == "/p q")
        #expect(request.queryItems.map(\.value) == ["+1", "a b"])

        let chunked = Array("5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\nNEXT".utf8)
        let decoded = try #require(try HTTPParser.decodeChunked(chunked[...]))
        #expect(String(decoding: decoded.body, as: UTF8.self) == "hello world")
        #expect(decoded.consumed == chunked.count - 4)
        #expect(try HTTPParser.decodeChunked(chunked[0..<12]) == nil)
        #expect(throws: HTTPParseError.self) { try HTTPParser.decodeChunked(ArraySlice("zz\r\n".utf8)) }
        #expect(throws: HTTPParseError.self) { try HTTPParser.parseHead(ArraySlice("GARBAGE\r\n".utf8)) }
    }

    @Test("fixed windows admit at most the limit per second, per key and endpoint")
    func rateLimiterWindows() {
        let limiter = FixedWindowLimiter()
        let admitted = (0..<8).map { _ in limiter.admit(endpoint: "e", key: "k", limit: 5, second: 10).admitted }
        #expect(admitted == [true, true, true, true, true, false, false, false])
        #expect(limiter.admit(endpoint: "e", key: "other", limit: 5, second: 10).admitted)
        #expect(limiter.admit(endpoint: "f", key: "k", limit: 5, second: 10).admitted)
        let next = limiter.admit(endpoint: "e", key: "k", limit: 5, second: 11)
        #expect(next == RateLimitDecision(admitted: true, limit: 5, remaining: 4))
        #expect(limiter.peakAdmitted == 5)
    }

    @Test("the fault generator is reproducible and follows the mix")
    func faultMix() {
        var mix = FaultMix()
        mix.internalErrorRate = 0.25
        mix.dropConnectionRate = 0.25
        let first = FaultInjector(seed: 7)
        let second = FaultInjector(seed: 7)
        let draws = (0..<1000).map { _ in first.drawFault(mix) }
        #expect(draws == (0..<1000).map { _ in second.drawFault(mix) })
        let errors = draws.filter { $0 == .internalError }.count
        let drops = draws.filter { $0 == .dropConnection }.count
        #expect((150...350).contains(errors))
        #expect((150...350).contains(drops))
        #expect(FaultInjector(seed: 7).drawFault(FaultMix()) == nil)
    }

    @Test("partial configuration JSON takes defaults")
    func partialConfiguration() throws {
        let decoded = try JSONDecoder().decode(
            SimulatorConfiguration.self, from: Data(#"{"apiKey":"k","faults":{"timeoutRate":0.5}}"#.utf8))
        var expected = SimulatorConfiguration(apiKey: "k")
        expected.faults.timeoutRate = 0.5
        #expect(decoded == expected)
        let roundTrip = try JSONDecoder().decode(SimulatorConfiguration.self, from: JSONEncoder().encode(expected))
        #expect(roundTrip == expected)
    }

    @Test("profiles link identifiers without stealing them from other profiles")
    func profileLinking() {
        let store = ProfileStore()
        store.apply(ProfileUpdate(email: "a@x", phone: nil, attributes: [("k", "1")]))
        store.apply(ProfileUpdate(email: nil, phone: "+15550000001", attributes: [("k", "2")]))
        store.apply(ProfileUpdate(email: "a@x", phone: "+15550000001", attributes: [("j", "3")]))
        #expect(store.profile(email: "a@x") == SimulatedProfile(email: "a@x", attributes: ["k": "1", "j": "3"]))
        #expect(store.profile(phone: "+15550000001") == SimulatedProfile(phone: "+15550000001", attributes: ["k": "2"]))
    }
}
