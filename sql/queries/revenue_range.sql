-- The revenue report's range in its time zone (README "Finance"): from the start of --from (or of the period of
-- the earliest dated line or counted referral, or of as-of when there is none; a referral created at -infinity, which
-- counts, starts no period: no range can begin there) to the end of --to (or of the
-- period that holds as-of), as local timestamps, and the instants they start at in the zone
-- (referral_sync_zone_start of sql/definitions/20_dates.sql).
-- Parameters: $1 zone (checked against pg_timezone_names), $2 unit (day, week, month, quarter, year),
-- $3 step (its interval), $4 local start or NULL, $5 local end (exclusive) or NULL, $6 as-of.
WITH bounds AS MATERIALIZED (
    SELECT coalesce($4::timestamp,
                    date_trunc($2, least((SELECT min(l.dated_at) FROM referral_sync_report_lines l
                                          WHERE isfinite(l.dated_at)),
                                         (SELECT min(c.created_at) FROM referral_sync_report_referrals c
                                          WHERE isfinite(c.created_at)),
                                         $6::timestamptz) AT TIME ZONE $1)) AS first_local,
           coalesce($5::timestamp, date_trunc($2, $6::timestamptz AT TIME ZONE $1) + $3::interval) AS end_local
)
SELECT to_char(first_local, 'YYYY-MM-DD"T"HH24:MI:SS') AS first_local,
       to_char(end_local, 'YYYY-MM-DD"T"HH24:MI:SS') AS end_local,
       referral_sync_zone_start(first_local, $1)::text AS range_start,
       referral_sync_zone_start(end_local, $1)::text AS range_end,
       to_char(referral_sync_zone_start(first_local, $1), 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM') AS range_start_text,
       to_char(referral_sync_zone_start(end_local, $1), 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM') AS range_end_text
FROM bounds
