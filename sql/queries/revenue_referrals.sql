-- The referrals that count (sql/definitions/40_referral_checks.sql: created by as-of, not a self-referral), as the
-- refresh keeps them (referral_sync_counted_referrals), for the revenue report's "referrals created" and
-- conversion, with their channel and whether they are successful as of as-of (a referral whose lines in
-- referral_sync_report_lines, revenue_lines.sql, add up to one). A temporary view of the reader's session, after
-- revenue_lines.sql.
CREATE OR REPLACE TEMP VIEW referral_sync_report_referrals AS
SELECT c.referral_id, c.created_at, c.channel, coalesce(s.net = 1, false) AS successful
FROM referral_sync_counted_referrals c
LEFT JOIN (SELECT l.referral_id, sum(l.sign) AS net FROM referral_sync_report_lines l GROUP BY l.referral_id) s
    ON s.referral_id = c.referral_id
