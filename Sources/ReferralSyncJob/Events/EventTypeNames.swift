import Attentive
import Foundation
import ReferralModel
import ReferralStore
import Reports

/// The names Attentive receives for Okendo's event types (`--event-type-names FILE`, README "Events"): a merchant
/// whose types were created by another app (Okendo's own integration) sends them under names of its own.
///
/// The file is UTF-8, one `Okendo name = name to send` a line; blank lines and lines starting with `#` are ignored,
/// and a type not listed keeps Okendo's name. Only the body sent changes: ids, ledger keys and the ledger's bodies
/// keep Okendo's names, so a change of names never sends again what was delivered.
public struct EventTypeNames: Sendable, Equatable {
    /// Okendo's name → the name sent, for the types the file renames.
    public private(set) var renamed: [String: String] = [:]

    /// Okendo's names, unchanged.
    public init() {}

    /// Reads and checks the file at `path`.
    /// - Throws: `JobError` (exit 78) naming the file, and the line when one is at fault: the file cannot be read,
    ///   a line is not UTF-8 or not `A = B`, an unknown or repeated Okendo name, an empty name, a character Attentive
    ///   forbids in a type, or two types sent under one name.
    public init(contentsOfFile path: String) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw Self.problem(path, nil, "cannot be read (\((error as NSError).localizedDescription))")
        }
        try self.init(parsing: Array(data), file: path)
    }

    /// Reads and checks the text of a names file; `file` names it in the errors.
    init(parsing bytes: [UInt8], file: String) throws {
        var lineOf: [String: Int] = [:]
        for (index, rawLine) in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .enumerated()
        {
            let number = index + 1
            guard var line = String(validating: rawLine, as: UTF8.self) else {
                throw Self.problem(file, number, "is not UTF-8")
            }
            if number == 1, line.hasPrefix("\u{FEFF}") { line.removeFirst() }
            let text = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if text.isEmpty || text.hasPrefix("#") { continue }
            guard let equals = text.firstIndex(of: "=") else {
                throw Self.problem(file, number, "is not `Okendo name = name to send`")
            }
            let okendo = text[..<equals].trimmingCharacters(in: .whitespaces)
            let sent = text[text.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard OkendoEventType(rawValue: okendo) != nil else {
                throw Self.problem(
                    file, number,
                    "'\(OutboundText.visible(okendo))' is not one of Okendo's event types ("
                        + OkendoEventType.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ") + ")")
            }
            if let first = lineOf[okendo] {
                throw Self.problem(file, number, "'\(okendo)' is already named on line \(first)")
            }
            if let reason = Self.refusal(of: sent) {
                throw Self.problem(file, number, "the name for '\(okendo)' \(reason)")
            }
            lineOf[okendo] = number
            renamed[okendo] = sent
        }
        // Two types under one name would be one type in Attentive; a type left unlisted keeps Okendo's name.
        var typeSentAs: [String: String] = [:]
        for type in OkendoEventType.allCases.sorted(by: { (lineOf[$0.rawValue] ?? 0) < (lineOf[$1.rawValue] ?? 0) }) {
            let name = sentName(of: type.rawValue)
            if let other = typeSentAs[name] {
                let number = lineOf[type.rawValue] ?? lineOf[other]
                throw Self.problem(
                    file, number, "'\(type.rawValue)' and '\(other)' would both be sent as '\(name)'")
            }
            typeSentAs[name] = type.rawValue
        }
    }

    /// The name Attentive receives for Okendo's type `okendoType`.
    public func sentName(of okendoType: String) -> String {
        renamed[okendoType] ?? okendoType
    }

    /// The body to send for `event`: its frozen body with the type sent under its name; `nil` when the frozen body
    /// does not start with Okendo's type (it cannot be renamed safely).
    func body(of event: UnsentEvent) -> String? {
        CustomEventJSON.body(event.body, ofType: event.type, sentAs: sentName(of: event.type))
    }

    /// Why Attentive would refuse `name` as an event type, if it would: empty, a character its spec forbids, or a
    /// control or bidirectional character (the job removes those from every text it sends; README "Events").
    static func refusal(of name: String) -> String? {
        if name.isEmpty { return "is empty" }
        if let character = name.first(where: CustomEvent.forbiddenTypeCharacters.contains) {
            return "contains \(character), which Attentive forbids in an event type (\" ' ( ) { } [ ] \\ | ,)"
        }
        if let scalar = name.unicodeScalars.first(where: {
            $0.properties.generalCategory == .control || OutboundText.isBidiControl($0)
        }) {
            return "contains the control character \(OutboundText.marker(scalar))"
        }
        return nil
    }

    private static func problem(_ file: String, _ line: Int?, _ what: String) -> JobError {
        JobError(
            .configuration, "the event type names file \(file)" + (line.map { ", line \($0)," } ?? "") + " \(what)",
            remedy: "Fix it: one `Okendo name = name to send` a line (README \"Events\"); blank lines and lines "
                + "starting with # are ignored")
    }
}
