-- 0012: the periods of the last revenue report for each set of options (README "Finance"), so a report says
-- which periods changed since the previous one with the same options (basis, unit, zone, range, currency)
-- whatever happened to its folder: pruned by --keep, another --reports-dir, another machine. One row per set of
-- options, replaced by each report once its folder is published; periods maps each period's first day to its
-- successful referrals and net revenue as revenue.csv wrote them.
CREATE TABLE IF NOT EXISTS referral_sync_revenue_reports (
    options_key text PRIMARY KEY,
    run_id      text NOT NULL,
    as_of       timestamptz NOT NULL,
    written_at  timestamptz NOT NULL DEFAULT now(),
    periods     jsonb NOT NULL
);
