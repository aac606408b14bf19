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

    /// The layout of the store the connection works in (its `search_path`), as the definitions tell it
    /// (`referral_sync_distributed_by_row`, `sql/definitions/38_same_referral.sql`). Call it once the schema is
    /// verified (`Migrations.verify`).
    public static func current(on connection: PostgresConnection) throws -> StoreLayout {
        try connection.query("SELECT referral_sync_distributed_by_row()").first?.bool(0) == true
            ? .distributedByRow : .oneNode
    }
}
