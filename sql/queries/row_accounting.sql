-- Per input table: the rows read, the rows that count, and (customers only) the rows that are not participants
-- (README "Rejected rows": every row counts, is not a participant, or is in rejected_rows.csv). The job checks
-- read = counted + not participants + rejected on every run. "Read" and "not participants" are counted from the
-- input tables themselves when the state is refreshed (referral_sync_refresh, sql/definitions/80_refresh.sql), on
-- its snapshot; "counted" comes from the derived rows, and "rejected" from rejected_rows.csv: a row a refresh
-- missed shows.
--   customers: a participant that can be sent (a usable identity of its own);
--   referrals: created by as-of and not a self-referral;
--   referral_orders: the qualifying order of a successful referral (one per successful referral);
--   referral_rejections: dated by as-of (it applies).
-- Columns: table, rows read, rows counted, rows not participants.
WITH participant_counts AS (
    SELECT count(*) FILTER (WHERE problem IS NULL) AS sendable,
           coalesce(sum(counted_referrals), 0) AS counted_referrals,
           coalesce(sum(successful_referrals::bigint), 0) AS qualifying_orders
    FROM referral_sync_participant_values
)
SELECT 'customers' AS "table", s.customers_read AS read, p.sendable AS counted,
       s.customers_not_participants AS not_participants
FROM referral_sync_state s, participant_counts p
UNION ALL
SELECT 'referrals', s.referrals_read, p.counted_referrals, 0 FROM referral_sync_state s, participant_counts p
UNION ALL
SELECT 'referral_orders', s.orders_read, p.qualifying_orders, 0 FROM referral_sync_state s, participant_counts p
UNION ALL
SELECT 'referral_rejections', s.rejections_read, s.rejections_counted, 0 FROM referral_sync_state s
