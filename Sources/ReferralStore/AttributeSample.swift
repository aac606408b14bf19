import Postgres
import ReferralModel

extension AttributeQuery {
    /// Opens a cursor over a deterministic sample of `size` participants, in `customer_id` order: the attribute
    /// query itself (same definitions, same shard), keeping the participants with the smallest
    /// `md5(customer_id || seed)`. The same seed picks the same sample; another seed (the job passes the as-of
    /// date) another, so a nightly check covers everyone over time. Call inside a transaction, after a refresh for
    /// the same parameters.
    /// - Parameters:
    ///   - size: How many participants at most (at least 1).
    ///   - seed: Mixed into the hash that orders participants.
    public static func openSampleCursor(
        on connection: PostgresConnection, _ parameters: RecomputeParameters, size: Int, seed: String,
        fetchSize: Int = 5000
    ) throws -> ParticipantCursor {
        var query = Substring(sql)
        while let last = query.last, last.isWhitespace || last == ";" { query = query.dropLast() }
        let sampled = """
            SELECT * FROM (
                SELECT * FROM (
            \(query)
                ) AS participant
                ORDER BY md5(participant.customer_id || $3::text), participant.customer_id
                LIMIT $4::bigint
            ) AS sampled
            ORDER BY customer_id
            """
        try ParticipantStateStore.verify(on: connection, parameters)
        let values: [String?] = [
            String(parameters.shard.count), String(parameters.shard.number - 1), seed, String(max(size, 1)),
        ]
        return ParticipantCursor(
            rows: try RowCursor(
                on: connection, sql: sampled, parameters: values, name: "participant_sample", fetchSize: fetchSize))
    }
}
