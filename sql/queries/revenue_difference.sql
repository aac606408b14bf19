-- A restated period's change (README "Finance"): the new amount minus the one the previous revenue report wrote,
-- exact, written by the money rule (sql/definitions/30_money.sql). Parameters: $1 new, $2 old, $3 minor units.
SELECT referral_sync_money($1::numeric - $2::numeric, $3::integer) AS difference
