-- attributes.csv (reports/README.md): every participant's values as the kept recompute holds them
-- (referral_sync_participant_values, brought up to date by the run's refresh), in customer order, read in the run's
-- snapshot beside the attribute query, which streams only the participants whose values differ from the ledger.
-- Parameters: $1 shard count, $2 this shard's index (0-based).
SELECT customer_id, email, phone, successful_referrals, latest_successful_referral_at,
       total_successful_referral_revenue, shareable_link
FROM referral_sync_participant_values
WHERE referral_sync_shard_index(customer_id, $1::integer) = $2::integer
ORDER BY customer_id
