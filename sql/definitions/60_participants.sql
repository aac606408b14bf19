-- Participants (README "Attribute definitions"): every customer who opted in (opted_in_at at or before as-of) or
-- referred at least once by as-of (referred: has a referral created by then). Never NULL. A single expression, so
-- PostgreSQL inlines it into the refresh.
CREATE OR REPLACE FUNCTION referral_sync_is_participant(
    opted_in_at timestamptz, referred boolean, as_of timestamptz) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN coalesce(opted_in_at <= as_of, false) OR coalesce(referred, false);

-- Which shard (0-based, of shard_count) sends a participant (README "Several workers": `--shard K/N`): a stable
-- hash of the customer id, the same on every machine and PostgreSQL version. Every query that splits the
-- participants by shard calls it (the attribute query, attributes.csv's, refused.csv's).
CREATE OR REPLACE FUNCTION referral_sync_shard_index(customer_id text, shard_count integer) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN shard_count <= 1 THEN 0
                ELSE ('x' || substr(md5(customer_id), 1, 8))::bit(32)::bigint % shard_count END;
