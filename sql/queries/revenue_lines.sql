-- The revenue report's lines (README "Finance") for the report's other queries: the lines the refresh keeps
-- (referral_sync_revenue_kept_lines: referral_sync_revenue_line_dates of sql/definitions/90_revenue_report.sql,
-- with each line's order discount and referral channel) of the report's basis, read in the snapshot the refresh
-- exported, so every figure and the reconciliation with the kept attributes see the same rows. A temporary view
-- of the reader's session; the basis is the transaction's setting referral_sync.report_booked (RevenueStore
-- sets it), read only for the few booked-only lines. Kept rows, so the report aggregates them and never
-- evaluates the rules over every order again.
CREATE OR REPLACE TEMP VIEW referral_sync_report_lines AS
SELECT l.referral_id, l.referrer_id, l.order_id, l.redeemed_at, l.dated_at, l.sign, l.total_price,
       l.discount_amount, l.channel, l.booked_only, l.referral_created_at
FROM referral_sync_revenue_kept_lines l
WHERE NOT l.booked_only OR current_setting('referral_sync.report_booked', true)::boolean
