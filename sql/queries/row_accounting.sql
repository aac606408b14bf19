-- Per input table, as of $1: the rows read, the rows that count, and (customers only) the rows that are not
-- participants (README "Rejected rows": every row counts, is not a participant, or is in rejected_rows.csv).
-- "Counts" is stated positively here, with the same conditions as participant_attributes.sql, so the job can
-- check read = counted + not participants + rejected on every run rather than assume it.
--   customers: a participant that can be sent (a usable identity of its own);
--   referrals: created by $1 and not a self-referral;
--   referral_orders: the qualifying order of a successful referral (one per successful referral);
--   referral_rejections: dated by $1 (it applies).
-- Parameters: $1 as_of timestamptz, $2 shop currency, $3 default phone region (NULL, US or CA).
-- Columns: table, rows read, rows counted, rows not participants.
WITH counted_referrals AS (
    SELECT r.referral_id, r.created_at
    FROM referrals r
    JOIN customers referrer ON referrer.customer_id = r.referrer_id
    WHERE r.created_at <= $1
      AND r.recipient_customer_id IS DISTINCT FROM r.referrer_id
      -- Only two present, non-blank emails can be the same: a missing email on both sides is not a self-referral.
      AND NOT coalesce(nullif(lower(btrim(r.recipient_email)), '') = nullif(lower(btrim(referrer.email)), ''), false)
),
qualifying_orders AS (
    SELECT DISTINCT ON (o.referral_id) o.referral_id
    FROM referral_orders o
    JOIN counted_referrals cr ON cr.referral_id = o.referral_id
    WHERE o.redeemed_at <= $1
      AND isfinite(o.redeemed_at)
      AND o.total_price >= 0
      AND o.total_price < 'Infinity'
      AND o.currency = $2
      AND o.redeemed_at >= cr.created_at
    ORDER BY o.referral_id, o.redeemed_at, o.order_id
),
participant_problems AS (
    SELECT count(*) FILTER (WHERE problem IS NULL) AS sendable FROM referral_sync_participants($1, $3)
)
SELECT 'customers' AS "table",
       (SELECT count(*) FROM customers) AS read,
       (SELECT sendable FROM participant_problems) AS counted,
       (SELECT count(*) FROM customers c
        WHERE NOT coalesce(c.opted_in_at <= $1, false)
          AND NOT EXISTS (SELECT 1 FROM referrals r WHERE r.referrer_id = c.customer_id AND r.created_at <= $1))
           AS not_participants
UNION ALL
SELECT 'referrals', (SELECT count(*) FROM referrals), (SELECT count(*) FROM counted_referrals), 0
UNION ALL
SELECT 'referral_orders', (SELECT count(*) FROM referral_orders),
       (SELECT count(*) FROM qualifying_orders q
        WHERE NOT EXISTS (SELECT 1 FROM referral_rejections j
                          WHERE j.referral_id = q.referral_id AND j.rejected_at <= $1)),
       0
UNION ALL
SELECT 'referral_rejections', (SELECT count(*) FROM referral_rejections),
       (SELECT count(*) FROM referral_rejections WHERE rejected_at <= $1), 0
