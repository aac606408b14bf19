-- Every participant's four Okendo attributes as of $1, compared with the ledger in the same pass
-- (README "Attribute definitions" and "Change detection").
-- Parameters: $1 as_of timestamptz, $2 shop currency, $3 the currency's minor units,
--             $4 shard count, $5 this shard's index (0-based; shard k of n takes stable_hash(customer_id) % n = k),
--             $6 default phone region (NULL, US or CA; README "Identities").
-- Columns: customer_id, email, phone, sendable email, sendable phone, shareable_link, successful_referrals,
--          latest_successful_referral_at, total_successful_referral_revenue, ledger email, ledger phone,
--          ledger link, ledger count, ledger latest, ledger revenue, has ledger row, identity changed,
--          changed mask (1 link, 2 count, 4 latest, 8 revenue), why it cannot be sent (NULL when it can).
WITH counted_referrals AS (
    -- Referrals that can succeed: created by $1 and not a self-referral (by customer id or case-insensitive email).
    SELECT r.referral_id, r.referrer_id, r.created_at
    FROM referrals r
    JOIN customers referrer ON referrer.customer_id = r.referrer_id
    WHERE r.created_at <= $1
      AND r.recipient_customer_id IS DISTINCT FROM r.referrer_id
      -- Only two present, non-blank emails can be the same: a missing email on both sides is not a self-referral.
      AND NOT coalesce(nullif(lower(btrim(r.recipient_email)), '') = nullif(lower(btrim(referrer.email)), ''), false)
),
qualifying_orders AS (
    -- Each referral's first valid order (earliest redeemed_at, then order_id) is its qualifying order.
    SELECT DISTINCT ON (o.referral_id) o.referral_id, cr.referrer_id, o.redeemed_at, o.total_price
    FROM referral_orders o
    JOIN counted_referrals cr ON cr.referral_id = o.referral_id
    WHERE o.redeemed_at <= $1
      AND isfinite(o.redeemed_at)
      AND o.total_price >= 0
      AND o.total_price < 'Infinity'  -- also excludes NaN, which numeric sorts above every number
      AND o.currency = $2
      AND o.redeemed_at >= cr.created_at
    ORDER BY o.referral_id, o.redeemed_at, o.order_id
),
successes AS (
    -- A referral is successful when it has a qualifying order and no rejection dated by $1.
    SELECT q.referrer_id,
           count(*) AS successful_referrals,
           max(q.redeemed_at) AS latest_at,
           sum(q.total_price) AS revenue
    FROM qualifying_orders q
    WHERE NOT EXISTS (
        SELECT 1 FROM referral_rejections j WHERE j.referral_id = q.referral_id AND j.rejected_at <= $1
    )
    GROUP BY q.referrer_id
),
participants AS (
    -- Everyone who opted in by $1 or referred at least once by $1, with the identity Attentive gets
    -- (sql/migrations/0003_participant_identities.sql), in this shard.
    SELECT p.customer_id, p.email, p.phone, p.shareable_link, p.send_email, p.send_phone, p.problem_detail, v.*
    FROM referral_sync_participants($1, $6) p
    LEFT JOIN successes s ON s.referrer_id = p.customer_id
    -- The formatted values, computed once per participant: OFFSET 0 keeps PostgreSQL from pasting these
    -- expressions into every place below that uses them (the output and the change mask), which formatted each
    -- date and amount twice (BENCHMARKS.md).
    CROSS JOIN LATERAL (
        SELECT coalesce(s.successful_referrals, 0)::text AS successful_referrals,
               referral_sync_timestamp(s.latest_at) AS latest_at,
               referral_sync_money(coalesce(s.revenue, 0), $3) AS revenue
        OFFSET 0
    ) v
    WHERE ($4 <= 1 OR ('x' || substr(md5(p.customer_id), 1, 8))::bit(32)::bigint % $4 = $5)
),
compared AS (
    SELECT p.*, l.email AS l_email, l.phone AS l_phone, l.shareable_link AS l_link,
           l.successful_referrals AS l_count, l.latest_successful_referral_at AS l_latest,
           l.total_successful_referral_revenue AS l_revenue,
           l.customer_id IS NOT NULL AS has_ledger,
           -- A new identity is a new Attentive user: it gets every attribute that has a value.
           (l.customer_id IS NULL OR (p.send_email, p.send_phone) IS DISTINCT FROM (l.email, l.phone)) AS fresh
    FROM participants p
    LEFT JOIN referral_sync_ledger l ON l.customer_id = p.customer_id
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
       problem_detail
FROM compared
ORDER BY customer_id
