import Postgres

/// Several stores in one database, one schema each (README "Several stores"): which store a connection works in,
/// and the advisory-lock keys of that store. Every lock key the job takes (the run and shard locks, the events
/// lock, the refresh lock, the events discovery lock, the migration lock) goes through ``key(_:store:)``, so two
/// stores never wait for each other and each store still runs one at a time.
public enum StoreKeys {
    /// The store of a database used the way it always was: its keys are the ones referral-sync always took.
    public static let defaultStore = "public"

    /// The schema the connection creates in and reads first (`current_schema()`); `nil` when its `search_path`
    /// names no schema that exists.
    public static func currentStore(on connection: PostgresConnection) throws -> String? {
        try connection.query("SELECT current_schema()").first?[0]
    }

    /// `base` for `store`: unchanged for `public`, otherwise offset by a hash of the name (FNV-1a, so the same on
    /// every machine and in every version). Two store names with the same hash (one pair in a million) would
    /// only take turns, as one store's runs do.
    public static func key(_ base: Int64, store: String) -> Int64 {
        guard store != defaultStore else { return base }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in store.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return base + Int64(hash % 1_000_000 + 1) * 100_000_000
    }

    /// `base` for the store `connection` works in.
    public static func key(_ base: Int64, on connection: PostgresConnection) throws -> Int64 {
        key(base, store: try currentStore(on: connection) ?? defaultStore)
    }
}
