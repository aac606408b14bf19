-- The adjustments to closed periods of the booked basis (README "Finance", revenue.md "Adjustments to closed
-- periods"): every one booked by a close and every pending one (referral_sync_revenue_adjustments,
-- sql/definitions/92_revenue_books.sql), with the period it belongs to by date and the period it is booked in, as
-- labels of the unit in the report's zone, why, its amount (rounded once by the money rule) and when the row that
-- caused it arrived (empty: before arrival times were recorded, migration 0017).
-- Parameters: $1 zone, $2 unit, $3 label format (to_char) of the unit, $4 minor units.
SELECT to_char(date_trunc($2, a.dated_at AT TIME ZONE $1), $3) AS belongs_to,
       to_char(date_trunc($2, a.booked_at AT TIME ZONE $1), $3) AS booked_in,
       a.reason, a.referral_id, a.order_id, referral_sync_money(a.amount, $4) AS amount,
       coalesce(to_char(a.arrived_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), '') AS arrived_at,
       a.pending
FROM referral_sync_revenue_adjustments($2, $1) a
ORDER BY a.booked_at, a.dated_at, a.referral_id, a.order_id, a.amount
