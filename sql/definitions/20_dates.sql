-- Date rules (README "Attribute definitions"): attribute dates are UTC instants at millisecond precision.

-- Time rule: UTC, millisecond precision, e.g. 2024-11-08T06:10:36.989Z (microseconds truncated). Declared STABLE
-- (to_char is): PostgreSQL inlines a SQL function only when the body is no more volatile than the declaration, so
-- an IMMUTABLE form would run as a little query per date (a full refresh formats over a million).
CREATE OR REPLACE FUNCTION referral_sync_timestamp(at timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
    RETURN to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');

-- A point in time in a rejected row's detail: the attribute date format, or for ±infinity (which to_char makes NULL,
-- and timestamptz accepts) the value as PostgreSQL writes it. Not STRICT, so it is inlined too.
CREATE OR REPLACE FUNCTION referral_sync_detail_time(at timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
    RETURN coalesce(referral_sync_timestamp(at), at::text);

-- Where a local time starts in a zone (the revenue report's periods, README "Finance"): the first instant at which
-- `local_time` is the time on the zone's clocks. That is PostgreSQL's `local_time AT TIME ZONE zone`, except in the
-- hour that is repeated when clocks go back over it (America/Havana at midnight on 2026-11-01: 00:00-00:59 happens
-- at 04:00 UTC and again at 05:00 UTC), where PostgreSQL gives the later instant and a day must start at the first,
-- so that the hour belongs to the day its clocks show. Every zone that goes back at midnight does so by one hour; a
-- local time skipped when clocks go forward is the first instant after the gap, as PostgreSQL gives it.
CREATE OR REPLACE FUNCTION referral_sync_zone_start(local_time timestamp, zone text) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
    RETURN CASE WHEN ((local_time AT TIME ZONE zone) - interval '1 hour') AT TIME ZONE zone = local_time
                THEN (local_time AT TIME ZONE zone) - interval '1 hour'
                ELSE local_time AT TIME ZONE zone END;
