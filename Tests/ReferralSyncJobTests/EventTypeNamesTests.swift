import Foundation
import ReferralModel
import ReferralStore
import Testing

@testable import ReferralSyncJob

/// `--event-type-names FILE`: `Okendo name = name to send` a line; every mistake exits 78 naming the file and line.
@Suite struct EventTypeNamesTests {
    static func parse(_ text: String) throws -> EventTypeNames {
        try EventTypeNames(parsing: Array(text.utf8), file: "names.txt")
    }

    /// The message of the error `text` is refused with; it must be a configuration error (78).
    static func refusal(_ bytes: [UInt8]) throws -> String {
        do {
            _ = try EventTypeNames(parsing: bytes, file: "names.txt")
        } catch let error as JobError {
            #expect(error.status == .configuration)
            return error.message
        }
        Issue.record("accepted")
        return ""
    }

    static func refusal(_ text: String) throws -> String { try refusal(Array(text.utf8)) }

    @Test func namesTheListedTypesAndLeavesTheOthersAsOkendoNamesThem() throws {
        let names = try Self.parse(
            "\u{FEFF}# our own names\r\n\n  Sent Okendo Referral =  Referral Sent  \r\n"
                + "Okendo Referral Invitation=Invitation = to a friend \u{e9}\n   # indented comment\n")
        #expect(names.sentName(of: "Sent Okendo Referral") == "Referral Sent")
        #expect(names.sentName(of: "Okendo Referral Invitation") == "Invitation = to a friend \u{e9}")
        #expect(names.sentName(of: "Okendo Referral Rejected") == "Okendo Referral Rejected")
        #expect(names.renamed.count == 2)
    }

    @Test func anEmptyFileKeepsOkendosNames() throws {
        #expect(try Self.parse("\n# nothing\n") == EventTypeNames())
    }

    @Test func typesMayTradeNames() throws {
        let names = try Self.parse(
            "Sent Okendo Referral = Okendo Referral Invitation\nOkendo Referral Invitation = Sent Okendo Referral\n")
        #expect(names.sentName(of: "Sent Okendo Referral") == "Okendo Referral Invitation")
    }

    @Test(arguments: [
        ("# x\nSent Okendo Referal = Sent\n", "line 2, 'Sent Okendo Referal' is not one of Okendo's event types"),
        ("Sent Okendo Referral\n", "line 1, is not `Okendo name = name to send`"),
        ("\nSent Okendo Referral = \n", "line 2, the name for 'Sent Okendo Referral' is empty"),
        ("Sent Okendo Referral = Sent (email)\n", "line 1, the name for 'Sent Okendo Referral' contains ("),
        ("Sent Okendo Referral = A, B\n", "line 1, the name for 'Sent Okendo Referral' contains ,"),
        ("Sent Okendo Referral = Sent\u{7}\n", "line 1, the name for 'Sent Okendo Referral' contains the control"),
        ("Sent Okendo Referral = Sent\u{202E}\n", "contains the control character {U+202E}"),
        ("Sent Okendo Referral = A\nOkendo Referral Invitation = A\n", "line 2, 'Okendo Referral Invitation' and"),
        (
            "Sent Okendo Referral = Okendo Referral Rejected\n",
            "line 1, 'Sent Okendo Referral' and 'Okendo Referral Rejected' would both be sent as 'Okendo Referral Rejected'"
        ),
        (
            "Sent Okendo Referral = A\nSent Okendo Referral = B\n",
            "line 2, 'Sent Okendo Referral' is already named on line 1"
        ),
    ])
    func refusesWithItsLine(_ text: String, _ expected: String) throws {
        let message = try Self.refusal(text)
        #expect(message.hasPrefix("the event type names file names.txt, "), "\(message)")
        #expect(message.contains(expected), "\(message)")
    }

    @Test func refusesALineThatIsNotUTF8() throws {
        let message = try Self.refusal(Array("# ok\n".utf8) + [0x53, 0xFF, 0x3D, 0x41, 0x0A])
        #expect(message == "the event type names file names.txt, line 2, is not UTF-8")
    }

    @Test func refusesAFileItCannotRead() throws {
        do {
            _ = try EventTypeNames(contentsOfFile: "/nonexistent/names.txt")
            Issue.record("accepted")
        } catch let error as JobError {
            #expect(error.status == .configuration)
            #expect(error.message.hasPrefix("the event type names file /nonexistent/names.txt cannot be read"))
        }
    }
}
