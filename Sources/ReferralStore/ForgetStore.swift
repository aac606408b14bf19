import Postgres

/// One customer a `forget` lookup found, with everything of theirs that names them.
public struct ForgottenCustomer: Sendable, Equatable {
    public var customerID: String
    /// As stored in `customers`, trimmed.
    public var email: String?
    public var phone: String?
    public var firstName: String?
    public var lastName: String?
    public var shareableLink: String?
    /// As the identity rules give them (`sql/definitions/10_identities.sql`).
    public var normalisedEmail: String?
    public var normalisedPhone: String?
}

/// What one PERSON of `forget` names: customers, and the identities to suppress.
public struct ForgetLookup: Sendable, Equatable {
    public var customers: [ForgottenCustomer] = []
    /// The normalised identity asked for when it is known without a customer (a referral's recipient email, an
    /// event's user, an identity forgotten before).
    public var email: String?
    public var phone: String?
    /// Whether the lookup found anyone.
    public var found: Bool { !customers.isEmpty || email != nil || phone != nil }
}

/// The SQL of `referral-sync forget` (README "Personal data"): the lookup, the suppression list (migration 0013,
/// `sql/definitions/95_forgotten.sql`) and the erasure of every table that holds personal data.
public enum ForgetStore {
    /// Who `asked` names: a customer_id exactly (it wins, as for `explain`), else every customer whose email or
    /// phone the identity rules read as `asked`'s; an identity held by no customer but known to referral-sync (a
    /// referral's recipient, an event's user, the ledger, the suppression list) is found as an identity alone.
    public static func lookup(_ asked: String, phoneRegion: String?, on connection: PostgresConnection) throws
        -> ForgetLookup
    {
        let rows = try connection.query(
            """
            WITH a AS (SELECT referral_sync_email($1::text) AS email, referral_sync_phone($1::text, $2::text) AS phone),
            by_id AS (SELECT c.customer_id FROM customers c WHERE c.customer_id = $1::text),
            found AS (
                SELECT customer_id FROM by_id
                UNION
                SELECT c.customer_id FROM customers c, a
                WHERE NOT EXISTS (SELECT 1 FROM by_id)
                  AND ((a.email IS NOT NULL AND referral_sync_email(c.email) = a.email)
                       OR (a.phone IS NOT NULL AND referral_sync_phone(c.phone, $2::text) = a.phone))
            )
            SELECT c.customer_id, referral_sync_trim(c.email), referral_sync_trim(c.phone),
                   referral_sync_trim(c.first_name), referral_sync_trim(c.last_name), c.shareable_link,
                   referral_sync_email(c.email), referral_sync_phone(c.phone, $2::text)
            FROM customers c JOIN found f ON f.customer_id = c.customer_id
            ORDER BY 1
            """, [asked, phoneRegion])
        var lookup = ForgetLookup()
        lookup.customers = rows.map { row in
            ForgottenCustomer(
                customerID: row[0] ?? "", email: row[1], phone: row[2], firstName: row[3], lastName: row[4],
                shareableLink: row[5], normalisedEmail: row[6], normalisedPhone: row[7])
        }
        guard lookup.customers.isEmpty else { return lookup }
        let known = try connection.query(
            """
            WITH a AS (SELECT referral_sync_email($1::text) AS email, referral_sync_phone($1::text, $2::text) AS phone)
            SELECT a.email, a.phone,
                   EXISTS (SELECT 1 FROM referrals r WHERE a.email IS NOT NULL
                                                      AND referral_sync_email(r.recipient_email) = a.email)
                   OR EXISTS (SELECT 1 FROM referral_sync_events e
                              WHERE e.user_email = a.email OR e.user_phone = a.phone)
                   OR EXISTS (SELECT 1 FROM referral_sync_ledger l WHERE l.email = a.email OR l.phone = a.phone)
                   OR referral_sync_is_forgotten(a.email, a.phone)
            FROM a
            """, [asked, phoneRegion]
        ).first
        if let known, known.bool(2) == true {
            lookup.email = known[0]
            lookup.phone = known[1]
        }
        return lookup
    }

    /// Adds the identities to the suppression list and erases what names the people from every table, in one
    /// transaction: the ledger's identity and link, pending values, bulk records' identities and links, the kept
    /// recompute's identities, event bodies and users (an event not yet delivered is never sent: `forgotten`),
    /// and any rejected-row or problem detail that quotes them. Ids, hashes and amounts stay. The people's rows
    /// are noted for `events`, whose next run lists them as `forgotten`.
    /// - Parameters:
    ///   - patterns: `ILIKE` patterns (escaped) of every text that names them.
    /// - Returns: How many identities were added to the list (those already in it are not counted).
    public static func erase(
        customers: [String], emails: [String], phones: [String], patterns: [String], runID: Int64,
        on connection: PostgresConnection
    ) throws -> Int {
        func array(_ values: [String]) -> String? { PostgresArray.literal(values.map { Optional($0) }) }
        let parameters = [array(customers), array(emails), array(phones), array(patterns), String(runID)]
        try connection.run("BEGIN")
        do {
            // The arguments, once, for every statement below.
            try connection.execute(
                """
                CREATE TEMP TABLE referral_sync_forget ON COMMIT DROP AS
                SELECT $1::text[] AS ids, $2::text[] AS emails, $3::text[] AS phones, $4::text[] AS patterns,
                       $5::bigint AS run_id
                """, parameters)
            let added = try connection.execute(
                """
                INSERT INTO referral_sync_forgotten (identity_hash, kind, run_id)
                SELECT referral_sync_identity_hash(i.kind, i.identity), i.kind, f.run_id
                FROM pg_temp.referral_sync_forget f,
                     LATERAL (SELECT 'email' AS kind, unnest(f.emails) AS identity
                              UNION SELECT 'phone', unnest(f.phones)) i
                WHERE i.identity IS NOT NULL
                ON CONFLICT (identity_hash) DO NOTHING
                """)
            for statement in eraseStatements { try connection.execute(statement) }
            try connection.execute("SELECT referral_sync_suppress_forgotten(true)")
            try connection.run("COMMIT")
            return added
        } catch {
            try? connection.run("ROLLBACK")
            throw error
        }
    }

    /// Each reads its arguments from `pg_temp.referral_sync_forget` (ids, emails, phones, patterns, run_id).
    static let eraseStatements = [
        """
        UPDATE referral_sync_ledger l SET email = NULL, phone = NULL, shareable_link = NULL
        FROM pg_temp.referral_sync_forget f
        WHERE l.customer_id = ANY (f.ids) OR l.email = ANY (f.emails) OR l.phone = ANY (f.phones)
        """,
        """
        DELETE FROM referral_sync_pending p USING pg_temp.referral_sync_forget f
        WHERE p.customer_id = ANY (f.ids) OR p.error ILIKE ANY (f.patterns)
        """,
        """
        UPDATE referral_sync_bulk_records r
        SET email = NULL, phone = NULL, shareable_link = NULL, previous_shareable_link = NULL, error = NULL
        FROM pg_temp.referral_sync_forget f
        WHERE r.customer_id = ANY (f.ids) OR r.email = ANY (f.emails) OR r.phone = ANY (f.phones)
           OR r.error ILIKE ANY (f.patterns)
        """,
        """
        UPDATE referral_sync_participant_values v
        SET email = NULL, phone = NULL, shareable_link = NULL, send_email = NULL, send_phone = NULL,
            stored_link_octets = NULL, problem = 'forgotten',
            problem_detail = 'forgotten (referral-sync forget): never sent, its personal data erased'
        FROM pg_temp.referral_sync_forget f
        WHERE v.customer_id = ANY (f.ids) OR v.send_email = ANY (f.emails) OR v.send_phone = ANY (f.phones)
        """,
        """
        UPDATE referral_sync_participant_values v
        SET problem_detail = v.problem || ': erased by referral-sync forget (it named a forgotten person)'
        FROM pg_temp.referral_sync_forget f
        WHERE v.problem_detail ILIKE ANY (f.patterns)
        """,
        """
        UPDATE referral_sync_rejected_rows r
        SET detail = 'erased by referral-sync forget (it named a forgotten person)'
        FROM pg_temp.referral_sync_forget f
        WHERE r.detail ILIKE ANY (f.patterns)
        """,
        // The body's hash stays (what was sent can still be proved), the body and user go; exactly-once rests on
        // the id, which stays.
        """
        UPDATE referral_sync_events e
        SET body_sha256 = coalesce(e.body_sha256, referral_sync_body_sha256(e.body)), body = '',
            user_email = NULL, user_phone = NULL, error = NULL,
            state = CASE WHEN e.state = 'delivered' THEN 'delivered' ELSE 'forgotten' END,
            updated_at = now(), updated_run_id = f.run_id
        FROM pg_temp.referral_sync_forget f
        WHERE e.user_email = ANY (f.emails) OR e.user_phone = ANY (f.phones) OR e.body ILIKE ANY (f.patterns)
           OR e.error ILIKE ANY (f.patterns)
        """,
        """
        INSERT INTO referral_sync_event_notes (source, key)
        SELECT 'customers', unnest(f.ids) FROM pg_temp.referral_sync_forget f
        """,
    ]

    /// Every text column of every `referral_sync_` table of the store that still holds one of `patterns`, as
    /// `table.column`: what the erasure could not reach. Names no identity.
    public static func remaining(patterns: [String], on connection: PostgresConnection) throws -> [String] {
        guard !patterns.isEmpty else { return [] }
        let columns = try connection.query(
            """
            SELECT c.table_name, c.column_name
            FROM information_schema.columns c JOIN information_schema.tables t
              ON t.table_schema = c.table_schema AND t.table_name = c.table_name
            WHERE c.table_schema = current_schema() AND c.table_name LIKE 'referral\\_sync\\_%'
              AND t.table_type = 'BASE TABLE' AND c.data_type IN ('text', 'jsonb', 'character varying')
            ORDER BY 1, 2
            """)
        let array = PostgresArray.literal(patterns.map { Optional($0) })
        var found: [String] = []
        for column in columns {
            guard let table = column[0], let name = column[1] else { continue }
            let quotedTable = "\"" + table.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            let quotedColumn = "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            let hit = try connection.query(
                "SELECT 1 FROM \(quotedTable) WHERE \(quotedColumn)::text ILIKE ANY ($1::text[]) LIMIT 1", [array])
            if !hit.isEmpty { found.append(table + "." + name) }
        }
        return found
    }

    /// An `ILIKE` pattern that finds `text` anywhere.
    public static func pattern(_ text: String) -> String {
        "%"
            + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_") + "%"
    }
}
