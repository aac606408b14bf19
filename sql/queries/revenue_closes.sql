-- The closed periods of the booked basis (README "Finance", `referral-sync revenue --closed`), per unit and zone,
-- in order: who closed each (the database role), when, at which as-of, and its figures as reported then.
-- Parameters: $1 zone or NULL (every zone), $2 unit or NULL (every unit).
SELECT c.unit, c.zone, c.period, c.label, c.currency,
       to_char(c.closed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS closed_at, c.closed_by,
       to_char(c.as_of AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS as_of, c.run_id,
       c.figures ->> 'successful_referrals' AS successful_referrals, c.figures ->> 'net_revenue' AS net_revenue,
       c.figures ->> 'adjustments' AS adjustments, c.figures ->> 'adjusted_net_revenue' AS adjusted_net_revenue
FROM referral_sync_revenue_closes c
WHERE ($1::text IS NULL OR c.zone = $1) AND ($2::text IS NULL OR c.unit = $2)
ORDER BY c.unit, c.zone, c.period_start
