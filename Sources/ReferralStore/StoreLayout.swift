import Postgres

/// Where a store's tables live (issue 28; README "Several workers and a distributed PostgreSQL"): on one
/// PostgreSQL server (or, the same to referral-sync, in a Citus distributed schema, the whole store on one node), or
/// distributed by row over a Citus cluster's workers (`referral_sync_distribute_by_customer`,
/// `sql/definitions/97_citus_layout.sql`).
public enum StoreLayout: Sendable, Equatable {
    /// Every table of the store on one server or one Citus node.
    case oneNode
    /// The input tables and the change notes distributed by customer (the referrer), co-located.
    case distributedByRow

    /// The layout of the store the connection works in (its `search_path`): distributed by row when Citus's
    /// catalog lists `referrals` as hash-distributed.
    public static func current(on connection: PostgresConnection) throws -> StoreLayout {
        // Citus's catalog is named only where it exists.
        guard try connection.query("SELECT to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL").first?[0] == "t"
        else { return .oneNode }
        let distributed = try connection.query(
            """
            SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition p
                           WHERE p.logicalrelid = to_regclass('referrals') AND p.partmethod = 'h')
            """)
        return distributed.first?[0] == "t" ? .distributedByRow : .oneNode
    }
}
