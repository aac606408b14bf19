-- 0019: the columns a store distributed by row on Citus needs (issue 28; README "Several workers and a distributed
-- PostgreSQL"), on every server, so that one text of every rule and query runs on both.
--
-- referral_orders.referrer_id, referral_rejections.referrer_id: the referrer of the row's referral. In a store
-- distributed by row (referral_sync_distribute_by_customer, 97_citus_layout) they are the distribution column,
-- NOT NULL and filled by the loader; everywhere else they are optional and ignored: the rules join an order or a
-- rejection to its referral by referral_id alone there (38_same_referral), so a loader that does not fill them
-- loses nothing, and PostgreSQL's plans are those of one key (joined by two, it estimates the join at a few rows).
ALTER TABLE referral_orders ADD COLUMN IF NOT EXISTS referrer_id text;
ALTER TABLE referral_rejections ADD COLUMN IF NOT EXISTS referrer_id text;

-- colocation_key of the three note tables: the distribution value of the row noted in a store distributed by row
-- (the referrer of a referral, an order or a rejection); '' everywhere else, where nothing writes it.
ALTER TABLE referral_sync_changes ADD COLUMN IF NOT EXISTS colocation_key text NOT NULL DEFAULT '';
ALTER TABLE referral_sync_event_notes ADD COLUMN IF NOT EXISTS colocation_key text NOT NULL DEFAULT '';
ALTER TABLE referral_sync_row_arrivals ADD COLUMN IF NOT EXISTS colocation_key text NOT NULL DEFAULT '';
