-- Participants (README "Attribute definitions"): every customer who opted in (opted_in_at at or before as-of) or
-- referred at least once by as-of (referred: has a referral created by then). Never NULL. A single expression, so
-- PostgreSQL inlines it into the refresh.
CREATE OR REPLACE FUNCTION referral_sync_is_participant(
    opted_in_at timestamptz, referred boolean, as_of timestamptz) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(opted_in_at <= as_of, false) OR coalesce(referred, false)
$$;
