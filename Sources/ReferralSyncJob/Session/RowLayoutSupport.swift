import Postgres
import ReferralStore

/// Which commands run on a store distributed by row on Citus (issue 28; README "Several workers and a distributed
/// PostgreSQL"), and the refusal of the others: each of these was compared with one server on the same rows
/// (`CitusTests`); the others (`events`) are refused rather than run, because Citus plans some of their statements
/// wrong without an error (the events' recipients, read from another node's shard, came back empty).
enum RowLayoutSupport {
    /// The commands that run on a store distributed by row and write what one server writes.
    static let commands: Set<String> = ["drift", "explain", "forget", "revenue", "run"]

    /// - Throws: `JobError` 78 when the store is distributed by row and `command` does not run there yet.
    static func check(command: String, on connection: PostgresConnection) throws {
        guard !commands.contains(command), try StoreLayout.current(on: connection) == .distributedByRow else {
            return
        }
        throw JobError(
            .configuration,
            "`referral-sync \(command)` does not run on a store distributed by row on Citus yet (only "
                + commands.sorted().map { "`\($0)`" }.joined(separator: ", ") + " does)",
            remedy: "Run it on a store in a distributed schema or on PostgreSQL alone "
                + "(README \"Several workers and a distributed PostgreSQL\").")
    }
}
