import Foundation

/// An ISO 4217 currency code with its minor units (how many decimal places an amount is shown with).
public struct Currency: Hashable, Sendable, CustomStringConvertible {
    /// The three-letter code, upper case, e.g. `USD`.
    public let code: String
    /// Digits after the decimal point: 2 for USD, 0 for JPY, 3 for KWD.
    public let minorUnits: Int

    /// Makes a currency from a code, case-insensitively.
    /// - Returns: `nil` when `code` is not three letters. Codes not in the ISO 4217 table below are taken with
    ///   2 minor units, the common case, so a new currency does not stop a run.
    public init?(code: String) {
        let upper = code.trimmingSpaces().uppercased()
        guard upper.count == 3, upper.allSatisfy({ $0.isASCII && $0.isLetter }) else { return nil }
        self.code = upper
        self.minorUnits = Currency.minorUnitsByCode[upper] ?? 2
    }

    public var description: String { code }

    /// ISO 4217 currencies whose minor units are not 2 (any other code has 2), for SQL that formats amounts of
    /// several currencies (the revenue report's excluded orders).
    public static var codesNotInTwoMinorUnits: [String: Int] { minorUnitsByCode }

    /// ISO 4217 currencies whose minor units are not 2.
    static let minorUnitsByCode: [String: Int] = [
        // 0 decimal places
        "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0, "RWF": 0,
        "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
        // 3 decimal places
        "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
        // 4 decimal places
        "CLF": 4, "UYW": 4,
    ]
}

extension String {
    func trimmingSpaces() -> String {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text = text.dropFirst() }
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return String(text)
    }
}

extension Currency {
    /// `amount` rounded half to even to this currency's minor units and written with exactly that many decimals
    /// (`42.00` for USD, `4200` for JPY). Exact: `Decimal`, never floating point.
    public func format(_ amount: Decimal) -> String {
        var value = amount
        var rounded = Decimal()
        NSDecimalRound(&rounded, &value, minorUnits, .bankers)
        let text = NSDecimalNumber(decimal: rounded).stringValue
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let whole = parts.first.map(String.init) ?? "0"
        guard minorUnits > 0 else { return whole }
        var fraction = parts.count > 1 ? String(parts[1]) : ""
        fraction += String(repeating: "0", count: max(0, minorUnits - fraction.count))
        return whole + "." + fraction
    }
}
