-- Every participant's four Okendo attributes, compared with the ledger in the same pass (README "Attribute
-- definitions" and "Change detection"). The values are the recompute kept up to date by referral_sync_refresh
-- (sql/definitions/80_refresh.sql), which every run calls first; the job checks that they are for its as-of,
-- currency and phone region (ParticipantStateStore.verify) in the same transaction.
-- Parameters: $1 shard count, $2 this shard's index (0-based; referral_sync_shard_index, 60_participants.sql).
-- Columns: customer_id, email, phone, sendable email, sendable phone, shareable_link, successful_referrals,
--          latest_successful_referral_at, total_successful_referral_revenue, ledger email, ledger phone,
--          ledger link, ledger count, ledger latest, ledger revenue, has ledger row, identity changed,
--          changed mask (1 link, 2 count, 4 latest, 8 revenue), why it cannot be sent (NULL when it can),
--          refused mask: the changed values Attentive refused as they are now (sql/definitions/86_refusals.sql),
--          which the job sends only on --retry-refused.
WITH refused AS (
    -- Who has a refused value at all (a few participants, usually none): the refusals' rule, a query per call, is
    -- asked of them alone rather than of every participant compared (972,786 calls on a first run at a million:
    -- 2.9 s of PostgreSQL on one server, 6.3 s on Citus).
    SELECT DISTINCT r.customer_id FROM referral_sync_pending r WHERE r.state = 'refused'
),
compared AS (
    SELECT p.customer_id, p.email, p.phone, p.send_email, p.send_phone, p.shareable_link,
           p.successful_referrals, p.latest_successful_referral_at AS latest_at,
           p.total_successful_referral_revenue AS revenue, p.problem_detail,
           l.email AS l_email, l.phone AS l_phone, l.shareable_link AS l_link,
           l.successful_referrals AS l_count, l.latest_successful_referral_at AS l_latest,
           l.total_successful_referral_revenue AS l_revenue,
           l.customer_id IS NOT NULL AS has_ledger,
           -- A new identity is a new Attentive user: it gets every attribute that has a value.
           (l.customer_id IS NULL OR (p.send_email, p.send_phone) IS DISTINCT FROM (l.email, l.phone)) AS fresh,
           rf.customer_id IS NOT NULL AS has_refusal
    FROM referral_sync_participant_values p
    LEFT JOIN referral_sync_ledger l ON l.customer_id = p.customer_id
    LEFT JOIN refused rf ON rf.customer_id = p.customer_id
    WHERE referral_sync_shard_index(p.customer_id, $1::integer) = $2::integer
)
SELECT customer_id, email, phone, send_email, send_phone, shareable_link, successful_referrals, latest_at, revenue,
       l_email, l_phone, l_link, l_count, l_latest, l_revenue, has_ledger,
       has_ledger AND fresh AS identity_changed,
       CASE WHEN fresh THEN
                -- PostgreSQL gives | and << the same precedence: every shift is parenthesised.
                (shareable_link IS NOT NULL)::int | 2 | ((latest_at IS NOT NULL)::int << 2) | 8
            ELSE
                (shareable_link IS DISTINCT FROM l_link)::int
                | ((successful_referrals IS DISTINCT FROM l_count)::int << 1)
                | ((latest_at IS DISTINCT FROM l_latest)::int << 2)
                | ((revenue IS DISTINCT FROM l_revenue)::int << 3)
       END AS changed_mask,
       problem_detail,
       CASE WHEN has_refusal AND (fresh OR (shareable_link, successful_referrals, latest_at, revenue)
                                         IS DISTINCT FROM (l_link, l_count, l_latest, l_revenue))
            THEN referral_sync_standing_refusals(customer_id, send_email, send_phone, shareable_link,
                                                 successful_referrals, latest_at, revenue)
            ELSE 0
       END AS refused_mask
FROM compared
ORDER BY customer_id
