-- The referrals that count (sql/definitions/40_referral_checks.sql: created by as-of, not a self-referral), for
-- the revenue report's "referrals created" and conversion, with their channel and whether they are successful as
-- of as-of (a referral whose lines in referral_sync_report_lines, revenue_lines.sql, add up to one). A temporary
-- table of the reader's transaction, after revenue_lines.sql.
-- Parameters: $1 as-of.
CREATE TEMP TABLE referral_sync_report_referrals ON COMMIT DROP AS
SELECT rc.referral_id, rc.created_at, r.channel, coalesce(s.net = 1, false) AS successful
FROM referral_sync_referral_checks($1::timestamptz, NULL) rc
JOIN referrals r ON r.referral_id = rc.referral_id
LEFT JOIN (SELECT l.referral_id, sum(l.sign) AS net FROM referral_sync_report_lines l GROUP BY l.referral_id) s
    ON s.referral_id = rc.referral_id
WHERE rc.reason IS NULL
