/// Which slice of the participants a run covers (`--shard K/N`).
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    /// 1-based shard number.
    public var number: Int
    /// How many shards there are.
    public var count: Int
    /// The whole participant set.
    public static let all = Shard(number: 1, count: 1)
    public init(number: Int, count: Int) {
        self.number = number
        self.count = count
    }
    public var description: String { "\(number)/\(count)" }
}

/// The inputs of one recompute: when, in which currency, which shard, and how national phone numbers are read.
public struct RecomputeParameters: Sendable, Equatable {
    public var asOf: Timestamp
    public var currency: Currency
    public var shard: Shard
    /// The region whose national phone numbers are read as E.164 (`US` or `CA`), or `nil` for none.
    public var phoneRegion: String?
    public init(asOf: Timestamp, currency: Currency, shard: Shard = .all, phoneRegion: String? = nil) {
        self.asOf = asOf
        self.currency = currency
        self.shard = shard
        self.phoneRegion = phoneRegion
    }
}
