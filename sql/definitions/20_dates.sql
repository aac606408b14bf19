-- Date rules (README "Attribute definitions"): attribute dates are UTC instants at millisecond precision.

-- Time rule: UTC, millisecond precision, e.g. 2024-11-08T06:10:36.989Z (microseconds truncated). Declared STABLE
-- (to_char is): PostgreSQL inlines a SQL function only when the body is no more volatile than the declaration, so
-- an IMMUTABLE form would run as a little query per date (a full refresh formats over a million).
CREATE OR REPLACE FUNCTION referral_sync_timestamp(at timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
    SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- A point in time in a rejected row's detail: the attribute date format, or for ±infinity (which to_char makes NULL,
-- and timestamptz accepts) the value as PostgreSQL writes it. Not STRICT, so it is inlined too.
CREATE OR REPLACE FUNCTION referral_sync_detail_time(at timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(referral_sync_timestamp(at), at::text)
$$;
