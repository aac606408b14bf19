-- One customer as `referral-sync explain` shows it (README "Support: explain a customer"): the stored row, the
-- participant's identity, values and identity problem as the kept recompute holds them (sql/definitions/80_refresh.sql,
-- read in the snapshot of a refresh for these parameters), why it is a participant or not (60_participants), how its
-- attributes follow from its successful referrals (52_successful_referral, 55_revenue: the exact sum before rounding),
-- and the ledger row (what Attentive last accepted) with the run that wrote it.
-- Parameters: $1 customer_id, $2 as-of, $3 shop currency, $4 default phone region (NULL: none).
WITH successes AS (
    SELECT * FROM referral_sync_successful_referrals($2::timestamptz, $3::text, ARRAY[$1::text])
),
-- The count, latest date and exact revenue as 55_revenue computes them for this referrer.
per_referrer AS (
    SELECT * FROM referral_sync_referrer_successes($2::timestamptz, $3::text, ARRAY[$1::text])
),
referrals_by_as_of AS (
    SELECT count(*) FILTER (WHERE rc.created_at <= $2::timestamptz) AS made
    FROM referral_sync_referral_checks($2::timestamptz, ARRAY[$1::text]) rc
)
SELECT c.customer_id, c.email, c.phone, c.shareable_link,
       referral_sync_detail_time(c.opted_in_at) AS opted_in_at,
       referral_sync_is_participant(c.opted_in_at, false, $2::timestamptz) AS opted_in_by_as_of,
       referral_sync_is_participant(NULL, r.made > 0, $2::timestamptz) AS referred_by_as_of,
       r.made AS referrals_by_as_of,
       v.customer_id IS NOT NULL AS participant,
       -- A non-participant is not in the kept recompute: its identity read by the same rules, though nothing is sent.
       coalesce(v.send_email, CASE WHEN v.customer_id IS NULL THEN referral_sync_email(c.email) END) AS send_email,
       coalesce(v.send_phone, CASE WHEN v.customer_id IS NULL THEN referral_sync_phone(c.phone, $4::text) END)
           AS send_phone,
       v.shareable_link AS kept_shareable_link, v.successful_referrals, v.latest_successful_referral_at,
       v.total_successful_referral_revenue,
       v.problem, v.problem_detail,
       -- Why a stored email or phone is not sent, in the words of warnings.csv and rejected_rows.csv (10_identities);
       -- NULL when it is sent, or missing or empty.
       CASE WHEN referral_sync_trim(c.email) <> '' THEN referral_sync_email_refusal(c.email) END AS email_refusal,
       CASE WHEN referral_sync_trim(c.phone) <> '' THEN referral_sync_phone_refusal(c.phone, $4::text) END
           AS phone_refusal,
       (SELECT p.revenue FROM per_referrer p)::text AS exact_revenue,
       -- The qualifying order whose redeemed_at is the latest date (the first by order_id on a tie).
       (SELECT s.order_id FROM successes s WHERE s.redeemed_at = (SELECT p.latest_at FROM per_referrer p)
        ORDER BY s.order_id LIMIT 1) AS latest_order_id,
       l.customer_id IS NOT NULL AS has_ledger,
       l.email AS ledger_email, l.phone AS ledger_phone, l.shareable_link AS ledger_link,
       l.successful_referrals AS ledger_count, l.latest_successful_referral_at AS ledger_latest,
       l.total_successful_referral_revenue AS ledger_revenue,
       referral_sync_timestamp(l.accepted_at) AS ledger_accepted_at, l.run_id AS ledger_run_id,
       lr.run_key AS ledger_run_key, lr.command AS ledger_run_command
FROM customers c
CROSS JOIN referrals_by_as_of r
LEFT JOIN referral_sync_participant_values v ON v.customer_id = c.customer_id
LEFT JOIN referral_sync_ledger l ON l.customer_id = c.customer_id
LEFT JOIN referral_sync_runs lr ON lr.run_id = l.run_id
WHERE c.customer_id = $1::text
