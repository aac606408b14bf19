import Attentive
import Foundation
import Reports
import TestSupport
import Testing

@testable import ReferralSyncJob

/// The hostile-text corpus through the escapers of the other destinations: logfmt and JSON log lines, Prometheus
/// labels (checked by promtool) and Attentive's request bodies (parsed back by JSONSerialization).
@Suite struct HostileTextEscapingTests {
    static let corpus = [
        "=1+2", "\u{202E}gnp.exe", "a\u{2066}b\u{2069}", "zero\u{200B}width", "e\u{0301}", "😀", "<script>", "a|b",
        "line\nbreak", "lone\rcr", "crlf\r\nend", "tab\there", "\"q\" 'q' \\b\\", "$1", "k=v", "", " ", "a\u{0007}b",
        "\u{0085}nel", String(repeating: "x", count: 100_000),
    ]

    @Test func logfmtValuesAreOneLineAndShowHiddenCharacters() {
        for entry in Self.corpus {
            let value = Logger.logfmtValue(entry)
            #expect(!value.unicodeScalars.contains { $0 == "\n" || $0 == "\r" || OutboundText.isHidden($0) })
            if entry.unicodeScalars.contains(where: { $0 == " " || $0 == "=" || $0 == "\"" || $0 == "\n" }) {
                #expect(value.hasPrefix("\"") && value.hasSuffix("\""))
            }
        }
        #expect(Logger.logfmtValue("lone\rcr") == #""lone\rcr""#)
        #expect(Logger.logfmtValue("\u{202E}x") == #""\u202Ex""#)
        #expect(Logger.logfmtValue("plain") == "plain")
    }

    @Test func jsonLogValuesAndRequestBodiesParseBackToTheSameText() throws {
        for entry in Self.corpus {
            let logged = "{\"v\":" + Logger.jsonString(entry) + "}"
            let parsed = try JSONSerialization.jsonObject(with: Data(logged.utf8)) as? [String: String]
            #expect(parsed?["v"] == entry)
            let body = CustomAttributesJSON.encode(
                AttributeUpdate(user: AttentiveUser(email: "a@example.com", phone: nil), properties: ["k": entry]))
            let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
            #expect((object?["properties"] as? [String: String])?["k"] == entry)
        }
    }

    @Test func prometheusLabelsPassPromtool() async throws {
        var text = "# HELP referral_sync_test A label per corpus entry.\n# TYPE referral_sync_test gauge\n"
        for (index, entry) in Self.corpus.enumerated() {
            text += "referral_sync_test{n=\"\(index)\",store=\"\(MetricsFile.escapeLabel(entry))\"} 1\n"
        }
        let path = NSTemporaryDirectory() + "hostile-\(UUID().uuidString).prom"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let check = try await MetricsFileTests.promtool(path)
        #expect(check.status == 0, "\(check.output)")
    }
}
