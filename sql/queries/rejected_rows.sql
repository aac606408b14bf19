-- Input rows that do not count, each with the first reason that applies (README "Rejected rows"): the
-- participants whose identity cannot be sent, and the rows referral_sync_refresh (sql/definitions/80_refresh.sql)
-- found, with the definitions it gives. Read in the snapshot of the run's attribute query, after the job has checked the state.
-- Columns: table, key, reason (a stable code), detail (for people).
SELECT 'customers' AS "table", customer_id AS key, problem AS reason, problem_detail AS detail
FROM referral_sync_participant_values
WHERE problem IS NOT NULL
UNION ALL
SELECT "table", key, reason, detail
FROM referral_sync_rejected_rows
ORDER BY 1, 2
