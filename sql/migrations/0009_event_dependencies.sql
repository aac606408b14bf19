-- 0009: a changed customer re-derives the events that depend on it (README "Events"): those of the referrals it
-- made or received and of the coupons it holds. The referrals it received are found by this index.
CREATE INDEX IF NOT EXISTS referrals_recipient_customer_id_idx ON referrals (recipient_customer_id);
