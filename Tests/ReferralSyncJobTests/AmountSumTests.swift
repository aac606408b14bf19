import Foundation
import Testing

@testable import ReferralSyncJob

/// `AmountSum`, the summary's revenue total over `attributes.csv`: exact, as a `Decimal` sum of the same text is.
@Suite struct AmountSumTests {
    func decimalSum(_ amounts: [String]) -> Decimal {
        amounts.reduce(Decimal(0)) { $0 + (Decimal(string: $1, locale: Locale(identifier: "en_US_POSIX")) ?? 0) }
    }

    @Test func sumsPrintedAmountsExactly() {
        let amounts = ["0.00", "12.34", "0.01", "1000", "7.5", "999999999999.999999", "0.000001", "3.10"]
        var sum = AmountSum()
        for amount in amounts { sum.add(amount) }
        #expect(sum.value == decimalSum(amounts))
        #expect(sum.value == Decimal(string: "1000000001022.95", locale: Locale(identifier: "en_US_POSIX")))
    }

    @Test func otherFormsAreAddedAsDecimals() {
        let amounts = ["-5.25", "1e3", "1234567890123.5", "0.1234567", ".5", "5.", "not a number", "", "10.00"]
        var sum = AmountSum()
        for amount in amounts { sum.add(amount) }
        #expect(sum.value == decimalSum(amounts))
        #expect(AmountSum.millionths("-5.25") == nil)
        #expect(AmountSum.millionths("5.") == nil)
        #expect(AmountSum.millionths("12.34") == 12_340_000)
    }

    @Test func aSumBeyondTheIntegerRangeStaysExact() {
        // 20 amounts of 999,999,999,999.99: 2e19 millionths, past Int64's 9.2e18.
        let amounts = Array(repeating: "999999999999.99", count: 20)
        var sum = AmountSum()
        for amount in amounts { sum.add(amount) }
        #expect(sum.value == decimalSum(amounts))
        #expect(sum.value == Decimal(string: "19999999999999.8", locale: Locale(identifier: "en_US_POSIX")))
    }
}
