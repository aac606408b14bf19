import Testing

@testable import ReferralModel

/// The drift rule: Attentive's value against the truth and the ledger.
@Suite struct DriftComparisonTests {
    static func participant(
        values: [OkendoAttribute: String], ledger: [OkendoAttribute: String], hasLedger: Bool = true,
        identityChanged: Bool = false
    ) -> ParticipantState {
        ParticipantState(
            customerID: "c1", rawEmail: "a@example.com", rawPhone: nil,
            identity: Identity(email: "a@example.com", phone: nil), values: values, ledgerValues: ledger,
            hasLedger: hasLedger, identityChanged: identityChanged, changedAttributes: [])
    }

    static let count = OkendoAttribute.successfulReferrals

    @Test func sameValueIsNoDrift() {
        let state = Self.participant(values: [Self.count: "2"], ledger: [Self.count: "2"])
        #expect(DriftComparison.findings(for: state, attentive: [Self.count.rawValue: "2"]).isEmpty)
    }

    @Test func absentAndEmptyAreTheSame() {
        let state = Self.participant(values: [:], ledger: [:])
        #expect(DriftComparison.findings(for: state, attentive: [OkendoAttribute.shareableLink.rawValue: ""]).isEmpty)
    }

    @Test func attentiveHoldingTheLedgerValueWhileTheTruthMovedIsPending() {
        let state = Self.participant(values: [Self.count: "3"], ledger: [Self.count: "2"])
        let found = DriftComparison.findings(for: state, attentive: [Self.count.rawValue: "2"])
        #expect(found.map(\.kind) == [.pending])
        #expect(found.first?.expectedValue == "3")
        #expect(found.first?.ledgerValue == "2")
        #expect(found.first?.attentiveValue == "2")
    }

    @Test func aValueTheJobNeverSentIsChangedInAttentive() {
        let state = Self.participant(values: [Self.count: "2"], ledger: [Self.count: "2"])
        let found = DriftComparison.findings(for: state, attentive: [Self.count.rawValue: "9"])
        #expect(found.map(\.kind) == [.changedInAttentive])
        #expect(!DriftKind.changedInAttentive.fixedByNextRun)
    }

    @Test func aValueGoneFromAttentiveIsMissing() {
        let state = Self.participant(values: [Self.count: "2"], ledger: [Self.count: "2"])
        #expect(DriftComparison.findings(for: state, attentive: [:]).map(\.kind) == [.missingInAttentive])
    }

    @Test func aNewIdentityHasNothingAcceptedYet() {
        let state = Self.participant(values: [Self.count: "2"], ledger: [Self.count: "2"], identityChanged: true)
        let found = DriftComparison.findings(for: state, attentive: [:])
        #expect(found.map(\.kind) == [.pending])
        #expect(found.first?.ledgerValue == nil)
        let never = Self.participant(values: [Self.count: "1"], ledger: [:], hasLedger: false)
        #expect(DriftComparison.findings(for: never, attentive: [:]).map(\.kind) == [.pending])
    }

    @Test func findingsFollowAttributeOrder() {
        let state = Self.participant(
            values: [.shareableLink: "l", .successfulReferrals: "1", .totalSuccessfulReferralRevenue: "1.00"],
            ledger: [:], hasLedger: false)
        let found = DriftComparison.findings(for: state, attentive: [:])
        #expect(found.map(\.attribute) == [.shareableLink, .successfulReferrals, .totalSuccessfulReferralRevenue])
    }
}
