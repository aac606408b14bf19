import Foundation
import Testing

@testable import ReferralModel

@Suite struct TimestampTests {
    @Test func parsesUTCWithMilliseconds() throws {
        let timestamp = try #require(Timestamp(iso8601: "2024-11-08T06:10:36.989Z"))
        #expect(timestamp.millisecondString == "2024-11-08T06:10:36.989Z")
        #expect(timestamp.microsecondsSinceEpoch == 1_731_046_236_989_000)
    }

    @Test func dateAloneIsMidnightUTC() throws {
        let timestamp = try #require(Timestamp(iso8601: "2024-02-29"))
        #expect(timestamp.description == "2024-02-29T00:00:00.000000Z")
    }

    @Test func offsetIsAppliedToUTC() throws {
        let timestamp = try #require(Timestamp(iso8601: "2024-01-01T01:30:00+02:00"))
        #expect(timestamp.millisecondString == "2023-12-31T23:30:00.000Z")
    }

    @Test(arguments: ["2024-13-01", "2023-02-29", "yesterday", "2024-11-08T06:10:36", "2024-11-08T25:00:00Z", ""])
    func rejectsMalformedOrZonelessTimes(_ text: String) {
        #expect(Timestamp(iso8601: text) == nil)
    }

    @Test func compactFormSortsByTime() throws {
        let early = try #require(Timestamp(iso8601: "2024-11-08T06:10:36Z"))
        let late = try #require(Timestamp(iso8601: "2024-11-08T16:00:00Z"))
        #expect(early.compactString == "20241108T061036Z")
        #expect(early.compactString < late.compactString)
    }
}

@Suite struct CurrencyTests {
    @Test func minorUnitsFollowISO4217() {
        #expect(Currency(code: "usd")?.minorUnits == 2)
        #expect(Currency(code: "JPY")?.minorUnits == 0)
        #expect(Currency(code: "KWD")?.minorUnits == 3)
    }

    @Test func rejectsCodesThatAreNotThreeLetters() {
        #expect(Currency(code: "US") == nil)
        #expect(Currency(code: "US1") == nil)
    }
}

@Suite struct ParticipantStateTests {
    func participant(changed: [OkendoAttribute], values: [OkendoAttribute: String], email: String?, phone: String?)
        -> ParticipantState
    {
        ParticipantState(
            customerID: "c1", rawEmail: email, rawPhone: phone, identity: Identity(email: email, phone: phone),
            values: values, ledgerValues: [:], hasLedger: false, identityChanged: false, changedAttributes: changed)
    }

    @Test func sendsOnlyChangedAttributesAndClearsRemovedOnes() {
        let state = participant(
            changed: [.successfulReferrals, .latestSuccessfulReferralDate], values: [.successfulReferrals: "0"],
            email: "a@example.com", phone: nil)
        #expect(
            state.changedProperties == [
                "Okendo Number of Successful Referrals": "0", "Okendo Latest Successful Referral Date": "",
            ])
    }

    @Test func participantWithoutIdentityIsUnsendable() {
        let state = participant(changed: [.successfulReferrals], values: [:], email: nil, phone: nil)
        #expect(state.unsendableReason != nil)
        #expect(participant(changed: [], values: [:], email: nil, phone: "+14155550101").unsendableReason == nil)
    }

    @Test func maskBitsRoundTrip() {
        #expect(OkendoAttribute.attributes(inMask: 15) == OkendoAttribute.allCases)
        #expect(OkendoAttribute.attributes(inMask: 10) == [.successfulReferrals, .totalSuccessfulReferralRevenue])
    }
}

@Suite struct CurrencyFormattingTests {
    @Test func formatsWithMinorUnitsRoundingHalfToEven() throws {
        let usd = try #require(Currency(code: "USD"))
        let jpy = try #require(Currency(code: "JPY"))
        #expect(usd.format(try #require(Decimal(string: "247.6"))) == "247.60")
        #expect(usd.format(Decimal(0)) == "0.00")
        #expect(usd.format(try #require(Decimal(string: "0.125"))) == "0.12")
        #expect(usd.format(try #require(Decimal(string: "1234567890123.455"))) == "1234567890123.46")
        #expect(jpy.format(Decimal(4200)) == "4200")
    }
}
