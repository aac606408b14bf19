import Testing

@testable import ReferralModel

/// `--from` and `--to` (README "Finance"): a day, month, quarter or year, as the days it covers.
@Suite struct RevenuePeriodsTests {
    @Test(arguments: [
        ("2025-01-01", "2025-01-01", "2025-01-02"), ("2024-02-29", "2024-02-29", "2024-03-01"),
        ("2025-12-31", "2025-12-31", "2026-01-01"), ("2025-11", "2025-11-01", "2025-12-01"),
        ("2025-12", "2025-12-01", "2026-01-01"), ("2025-Q1", "2025-01-01", "2025-04-01"),
        ("2025-Q4", "2025-10-01", "2026-01-01"), ("2025", "2025-01-01", "2026-01-01"),
    ])
    func aSpanCoversItsDays(text: String, first: String, end: String) throws {
        let span = try #require(CalendarSpan(text))
        #expect("\(span.first)" == first)
        #expect("\(span.end)" == end)
    }

    @Test(arguments: [
        "", "2025-13", "2025-00", "2025-02-29", "2025-Q5", "2025-Q0", "25-01", "2025-1", "2025-01-1",
        "2025/01", "2025-01-01T00:00:00Z", "abcd", "2025-W45",
    ])
    func aMalformedSpanIsRefused(text: String) {
        #expect(CalendarSpan(text) == nil)
    }

    @Test func everyUnitHasAStepAndALabel() {
        #expect(PeriodUnit.allCases.map(\.step) == ["1 day", "7 days", "1 month", "3 months", "1 year"])
        #expect(PeriodUnit.week.labelFormat == "IYYY-\"W\"IW")
    }
}
