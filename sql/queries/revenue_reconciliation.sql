-- The revenue report's reconciliation with the attributes `run` sends (README "Finance"): over the whole history
-- at the same as-of, the report's lines (referral_sync_report_lines, net of reversals) against the kept
-- participant values (referral_sync_participant_values, attributes.csv's figures). Attributes are rounded per
-- participant, so the report's revenue is also summed per referrer, each rounded once, to compare like with like;
-- the rounded whole-history total beside it shows what rounding per participant leaves over.
-- Parameters: $1 minor units.
WITH per_referrer AS (
    SELECT l.referrer_id, sum(l.sign) AS successes, sum(l.sign * l.total_price) AS revenue
    FROM referral_sync_report_lines l
    GROUP BY l.referrer_id
),
report AS (
    SELECT coalesce(sum(successes), 0) AS successes, coalesce(sum(revenue), 0) AS revenue,
           coalesce(sum(referral_sync_money(revenue, $1)::numeric), 0) AS revenue_by_referrer
    FROM per_referrer
),
attributes AS (
    SELECT count(*) AS participants, coalesce(sum(v.successful_referrals::bigint), 0) AS successes,
           coalesce(sum(v.total_successful_referral_revenue::numeric), 0) AS revenue
    FROM referral_sync_participant_values v
)
SELECT r.successes AS report_successes, referral_sync_money(r.revenue, $1) AS report_revenue,
       referral_sync_money(r.revenue_by_referrer, $1) AS report_revenue_by_referrer,
       a.participants, a.successes AS attribute_successes, referral_sync_money(a.revenue, $1) AS attribute_revenue,
       referral_sync_money(referral_sync_money(r.revenue, $1)::numeric - a.revenue, $1) AS rounding,
       r.successes = a.successes AND referral_sync_money(r.revenue_by_referrer, $1)::numeric = a.revenue AS reconciles
FROM report r, attributes a
