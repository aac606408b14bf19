import Foundation
import TestSupport
import Testing

@testable import ReferralSyncJob

/// The seeded fuzz histories (``FuzzHistory``, every kind of bad row mixed in) through `referral-sync revenue`:
/// the reconciliation holds in both bases, the two bases agree over all periods, and the count agrees with the
/// independent recomputation (``FuzzExpectations``).
@Suite struct RevenueFuzzTests {
    @Test(arguments: [UInt64(20_241_108), 7])
    func theReconciliationHoldsAndTheBasesAgree(seed: UInt64) async throws {
        let history = FuzzHistory(seed: seed)
        let expected = FuzzExpectations(history)
        let harness = try await JobHarness()
        try FuzzTests.load(history, into: harness.database)
        let expectedSuccesses = expected.attributes.values.reduce(0) { $0 + (Int($1[0]) ?? 0) }
        var totals: [[String]] = []
        for basis in ["redemption", "booked"] {
            let outcome = await harness.revenue(
                [
                    "--as-of", FuzzExpectations.iso(FuzzHistory.asOf), "--currency", "USD", "--default-phone-region",
                    "US", "--basis", basis, "--by", "week", "--timezone", "America/New_York",
                ], directory: harness.reportsDirectory + "/" + basis)
            #expect(outcome.status == .success, "\(basis): \(outcome.message)")
            let markdown = try outcome.markdown()
            #expect(!markdown.contains("does not reconcile"))
            #expect(
                markdown.contains(
                    "| Successful referrals, whole history | \(expectedSuccesses) | \(expectedSuccesses) | equal |"))
            let periods = try outcome.periods()
            let net = periods.reduce(0) {
                $0 + (Int($1["successful_referrals"] ?? "") ?? 0) - (Int($1["reversed_referrals"] ?? "") ?? 0)
            }
            #expect(net == expectedSuccesses, "\(basis)")
            let reversals = periods.reduce(0) { $0 + (Int($1["reversed_referrals"] ?? "") ?? 0) }
            // The fuzz rejections include ones dated after their order: the booked basis reverses them.
            #expect(basis == "booked" ? reversals > 0 : reversals == 0, "\(basis): \(reversals) reversals")
            let total = markdown.split(separator: "\n").first { $0.hasPrefix("| **Total** |") }
            let cells = total.map { $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) } } ?? []
            // Net revenue (the last cell) and successful referrals less reversals.
            #expect(cells.last?.hasPrefix("**") == true)
            totals.append([cells.last ?? "", String(net)])
        }
        #expect(totals.count == 2 && totals[0] == totals[1], "\(totals)")
    }
}
