import Postgres

extension EventLedger {
    /// The retention rule of README "Personal data": the frozen body of an event delivered more than `days` days ago
    /// loses its `properties` and `user` (and the row its user's email and phone); its id, type, role, source key,
    /// occurred time, outcome and `body_sha256` (the hash of the body as sent) stay. Exactly-once rests on the
    /// event's key and id, which stay, so a stripped event is never sent again.
    /// - Returns: How many bodies it stripped.
    @discardableResult
    public static func stripDeliveredBodies(olderThanDays days: Int, runID: Int64?, on connection: PostgresConnection)
        throws -> Int
    {
        try connection.execute(
            """
            UPDATE referral_sync_events
            SET body_sha256 = coalesce(body_sha256, referral_sync_body_sha256(body)),
                body = (body::jsonb - 'properties' - 'user')::text, user_email = NULL, user_phone = NULL,
                updated_at = now(), updated_run_id = $2::bigint
            WHERE state = 'delivered' AND delivered_at < now() - make_interval(days => $1::int)
              AND body LIKE '{%' AND (body::jsonb ? 'properties' OR body::jsonb ? 'user')
            """, [String(days), runID.map(String.init)])
    }
}
