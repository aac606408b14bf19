import Postgres

/// One deletion request `forget --request-deletion` filed with Attentive, as recorded (never the identity).
public struct RecordedDeletionRequest: Sendable, Equatable {
    /// Attentive's id of the request.
    public var requestID: String
    /// Which kind of identity it names: `email` or `phone`.
    public var kind: String
    /// When it was filed, as PostgreSQL prints a `timestamptz` in UTC.
    public var filedAt: String
}

/// `referral_sync_deletion_requests` (migration 0014): the requests filed with Attentive, keyed by their id, each
/// tied to the forgotten identity by its salted hash only.
public enum DeletionRequestStore {
    /// Records a filed request for the normalised `identity` of `kind` (`email` or `phone`); the identity is hashed
    /// in the statement and never stored.
    public static func record(
        requestID: String, kind: String, identity: String, runID: Int64, on connection: PostgresConnection
    ) throws {
        try connection.execute(
            """
            INSERT INTO referral_sync_deletion_requests (request_id, kind, identity_hash, run_id)
            VALUES ($1, $2, referral_sync_identity_hash($2, $3), $4::bigint)
            ON CONFLICT (request_id) DO NOTHING
            """, [requestID, kind, identity, String(runID)])
    }

    /// Every recorded request, oldest first.
    public static func all(on connection: PostgresConnection) throws -> [RecordedDeletionRequest] {
        try connection.query(
            """
            SELECT request_id, kind,
                   to_char(filed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
            FROM referral_sync_deletion_requests
            ORDER BY filed_at, request_id
            """
        ).map { row in RecordedDeletionRequest(requestID: row[0] ?? "", kind: row[1] ?? "", filedAt: row[2] ?? "") }
    }
}
