-- The events the rows to consider imply (sql/definitions/85_events.sql), with what `events` needs to decide each:
-- its time in the attribute date format, whether it is older than --max-age at the as-of, and its state in the
-- events ledger if it is there; a forgotten person's events come back with reason 'forgotten'; the warning of an
-- event sent with one identity because the rules refuse the other (warnings.sql's words).
-- Parameters: $1 as-of, $2 currency, $3 minor units, $4 default phone region, $5 every row (backfill, first run), $6..$10 the keys (customers, referrals, redemptions, rejections, coupons),
-- $11 --max-age in seconds, $12 the number of shards (the shard of an event: as `EventLedger.unsent` takes it).
SELECT c.event_key, c.type, c.role, c.source_row, c.note_source, c.note_key,
       referral_sync_detail_time(c.occurred_at) AS occurred_at, c.occurred_at::text AS occurred_at_raw,
       -- A forgotten person (sql/definitions/95_forgotten.sql) is absent: no identity, no properties, never sent.
       CASE WHEN f.forgotten THEN NULL ELSE c.user_email END AS user_email,
       CASE WHEN f.forgotten THEN NULL ELSE c.user_phone END AS user_phone,
       CASE WHEN f.forgotten THEN NULL ELSE c.properties END AS properties,
       CASE WHEN f.forgotten THEN 'forgotten' ELSE c.reason END AS reason,
       coalesce(c.occurred_at < $1::timestamptz - make_interval(secs => $11::double precision), false) AS too_old,
       l.state AS ledger_state,
       mod(abs(hashtextextended(c.event_key, 0)), $12::integer) + 1 AS shard_number, c.text_cleaned,
       CASE WHEN f.forgotten THEN NULL ELSE c.warning END AS warning
FROM referral_sync_event_candidates($1::timestamptz, $2, $3::integer, $4, $5::boolean, $6::text[], $7::text[],
                                    $8::text[], $9::text[], $10::text[]) c
LEFT JOIN referral_sync_events l ON l.event_key = c.event_key
CROSS JOIN LATERAL (SELECT referral_sync_is_forgotten(c.user_email, c.user_phone) AS forgotten) f
