-- The periods of the previous revenue report with the same options (migration 0012, README "Finance"), one row
-- per period: its first day, successful referrals and net revenue as that report wrote them, its run id and its
-- as-of (UTC, to the second: a period that had ended by then was closed when that report was made).
-- Parameters: $1 the options key.
SELECT r.run_id, to_char(r.as_of AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS as_of, p.key AS period, p.value ->> 0 AS successful_referrals, p.value ->> 1 AS net_revenue
FROM referral_sync_revenue_reports r, jsonb_each(r.periods) AS p
WHERE r.options_key = $1
