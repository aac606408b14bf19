import ReferralModel
import Testing

@Suite("Event ids: SHA-1 and version-5 UUIDs")
struct EventIDTests {
    @Test("SHA-1 matches FIPS 180-4's test vectors, across a block boundary too")
    func sha1Vectors() {
        func hex(_ bytes: [UInt8]) -> String {
            bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        }
        #expect(hex(SHA1.hash(Array("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(hex(SHA1.hash([])) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(
            hex(SHA1.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
                == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        #expect(
            hex(SHA1.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)))
                == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
    }

    @Test("UUIDv5 agrees with RFC 9562's construction (Python's uuid5) and is stable")
    func uuid5() {
        let dns: [UInt8] = [
            0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8,
        ]
        #expect(EventID.uuid5(namespace: dns, name: "python.org") == "886313e1-3b8a-5372-9b90-0c9aee199e5d")
        // Python: uuid.uuid5(uuid.uuid5(uuid.NAMESPACE_URL, 'referral-sync:events'), '…').
        #expect(
            EventID.uuid5(name: "Sent Okendo Referral|referrer|referrals:r1") == "ac76527c-8eb7-5068-bc87-361e301bd151")
        #expect(EventID.uuid5(name: "a") != EventID.uuid5(name: "b"))
    }
}
