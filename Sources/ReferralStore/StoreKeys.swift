import Postgres
public import ReferralModel

/// Several stores in one database, one schema each (README "Several stores"): which store a connection works in,
/// and every advisory-lock key the job takes. Each key is derived here and nowhere else: the base of each
/// ``Lock``, the shard keys of the run and events locks, and the offset of a store, so two stores never wait for
/// each other, each store still runs one at a time, and no two locks share a key.
public enum StoreKeys {
    /// The store of a database used the way it always was: its keys are the ones referral-sync always took.
    public static let defaultStore = "public"

    /// The most shards a run may be cut into (`--shard K/N`, README "Several workers"). The bound keeps every
    /// shard key inside its own lock's range: run shard keys end below the events lock's base plus its first shard
    /// key, and a store's keys below the next store's offset.
    public static let maximumShardCount = 1_000

    /// The advisory locks of a store.
    public enum Lock: Sendable, CaseIterable {
        /// `migrate`: migrations apply one at a time (a transaction-level lock).
        case migration
        /// `run` and `drift`: one whole run, or shared by shards that each hold their own shard key.
        case run
        /// The kept recompute: refreshes take turns (shards of one night refresh one after the other).
        case refresh
        /// `events`: one events run, or shared by events shards.
        case events
        /// The events discovery of shards that start together (a transaction-level lock).
        case eventsDiscovery

        /// The key of this lock in the default store: the values referral-sync has always taken.
        var base: Int64 {
            switch self {
            case .migration: 7_226_175_001
            case .run: 7_226_175_002_000
            case .refresh: 7_226_175_002_999
            case .events: 7_226_175_003_000
            case .eventsDiscovery: 7_226_175_003_999
            }
        }
    }

    /// The schema the connection creates in and reads first (`current_schema()`); `nil` when its `search_path`
    /// names no schema that exists.
    public static func currentStore(on connection: PostgresConnection) throws -> String? {
        try connection.query("SELECT current_schema()").first?[0]
    }

    /// The key of `lock` in `store`: the base unchanged for `public`, otherwise offset by a hash of the name
    /// (FNV-1a, so the same on every machine and in every version). Two store names with the same hash (one pair in
    /// a million) would only take turns, as one store's runs do.
    public static func key(_ lock: Lock, store: String) -> Int64 {
        lock.base + offset(of: store)
    }

    /// The key of `lock` in the store `connection` works in.
    public static func key(_ lock: Lock, on connection: PostgresConnection) throws -> Int64 {
        key(lock, store: try currentStore(on: connection) ?? defaultStore)
    }

    /// The key `shard` holds exclusively beside the shared `lock` (`.run` or `.events`): `nil` for the whole set.
    /// `shard.count` is at most ``maximumShardCount`` (the option refuses more).
    public static func shardKey(_ lock: Lock, shard: Shard, store: String) -> Int64? {
        guard shard != .all else { return nil }
        precondition(shard.count <= maximumShardCount, "a shard count above \(maximumShardCount)")
        return key(lock, store: store) + Int64(shard.count) * 10_000 + Int64(shard.number)
    }

    private static func offset(of store: String) -> Int64 {
        guard store != defaultStore else { return 0 }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in store.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return Int64(hash % 1_000_000 + 1) * 100_000_000
    }
}
