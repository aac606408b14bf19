-- Keeps a published revenue report's periods as the previous report of its options (migration 0012): each period's
-- first day with its successful referrals and net revenue, as revenue.csv has them.
-- Parameters: $1 options key, $2 run id, $3 as-of, $4 periods, $5 successful referrals, $6 net revenue (text
-- arrays of one length).
INSERT INTO referral_sync_revenue_reports AS r (options_key, run_id, as_of, periods)
SELECT $1, $2, $3::timestamptz,
       coalesce(jsonb_object_agg(p.period, jsonb_build_array(p.successes, p.net_revenue)), '{}'::jsonb)
FROM unnest($4::text[], $5::text[], $6::text[]) AS p (period, successes, net_revenue)
-- written_at: the inserted row's, its default now(); Citus refuses now() itself in a DO UPDATE SET.
ON CONFLICT (options_key) DO UPDATE
SET run_id = excluded.run_id, as_of = excluded.as_of, written_at = excluded.written_at, periods = excluded.periods
