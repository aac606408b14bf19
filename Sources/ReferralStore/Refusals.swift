import Postgres
import ReferralModel

/// The refusals still standing (README "Refusals"): values and events Attentive refused for their content (400,
/// 413, 422), parked and not sent again while unchanged, as each run's `refused.csv` lists them.
public enum Refusals {
    /// `refused.csv` of `run`: one row per refused attribute value.
    public static let valueColumns = [
        "customer_id", "attribute", "value", "email", "phone", "http_status", "error", "attempts", "first_refused_at",
        "last_attempt_at",
    ]

    /// `refused.csv` of `events`: one row per refused event.
    public static let eventColumns = [
        "event_id", "type", "role", "source_row", "user_email", "user_phone", "occurred_at", "http_status", "error",
        "attempts", "first_refused_at",
    ]

    /// Gives `body` every refused value of `shard` still standing (in `valueColumns` order), oldest refusal first.
    /// - Returns: How many.
    @discardableResult
    public static func forEachValue(
        of shard: Shard, on connection: PostgresConnection, _ body: ([String?]) throws -> Void
    ) throws -> Int {
        try forEach(
            """
            SELECT customer_id, attribute, value, sent_email, sent_phone, http_status::text, error, attempts::text,
                   referral_sync_timestamp(refused_at), referral_sync_timestamp(last_attempt_at)
            FROM referral_sync_pending
            WHERE state = 'refused'
              AND referral_sync_shard_index(customer_id, $1::integer) = $2::integer - 1
            ORDER BY refused_at, customer_id, attribute
            """, shard, on: connection, columns: valueColumns.count, body)
    }

    /// Gives `body` every refused event of `shard` (in `eventColumns` order), oldest refusal first.
    /// - Returns: How many.
    @discardableResult
    public static func forEachEvent(
        of shard: Shard, on connection: PostgresConnection, _ body: ([String?]) throws -> Void
    ) throws -> Int {
        try forEach(
            """
            SELECT event_id::text, type, role, source_row, user_email, user_phone,
                   referral_sync_detail_time(occurred_at), http_status::text, error, attempts::text,
                   referral_sync_timestamp(refused_at)
            FROM referral_sync_events
            WHERE state = 'refused'
              AND ($1::integer = 1 OR mod(abs(hashtextextended(event_key, 0)), $1::integer) = $2::integer - 1)
            ORDER BY refused_at, event_key
            """, shard, on: connection, columns: eventColumns.count, body)
    }

    private static func forEach(
        _ sql: String, _ shard: Shard, on connection: PostgresConnection, columns: Int,
        _ body: ([String?]) throws -> Void
    ) throws -> Int {
        var count = 0
        try connection.forEachRow(sql, [String(shard.count), String(shard.number)]) { row in
            count += 1
            try body((0..<columns).map { row[$0] })
        }
        return count
    }
}
