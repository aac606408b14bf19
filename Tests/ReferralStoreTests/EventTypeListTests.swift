import ReferralModel
import Testing

@testable import ReferralStore

/// The seven event types have two lists: the SQL that derives the events, and `OkendoEventType`, which checks the
/// names file before anything runs. They must be the same list.
@Suite struct EventTypeListTests {
    @Test func theEventsDefinitionWritesExactlyOkendosSevenTypes() throws {
        let events = try #require(SQL.definitions.first { $0.name == "85_events" })
        let written = Set(
            events.sql.matches(of: /SELECT '([^']*Okendo[^']*)'/).map { String($0.output.1) })
        #expect(written == Set(OkendoEventType.allCases.map(\.rawValue)))
    }
}
