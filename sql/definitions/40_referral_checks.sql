-- Which referrals count (README "Attribute definitions": successful referral, self-referrals, rejections). For the
-- referrals of p_referrers (NULL: of everyone), each referral with reason, the first reason it cannot be successful
-- (NULL when it counts: created by as-of, not a self-referral), and its rejection, which applies when dated by
-- as-of whatever its date relative to the order; and its channel as stored (for the revenue report, 90). A successful referral (52_successful_referral) is a counted,
-- unrejected referral with a qualifying order (50_qualifying_order).
--
-- Like every set below, a single SELECT in a SQL function that is neither STRICT nor VOLATILE: PostgreSQL inlines
-- it into the calling query, so the refresh's filter on p_referrers reaches the index on referrals.referrer_id.
DROP FUNCTION IF EXISTS referral_sync_referral_checks(timestamptz, text[]);
CREATE OR REPLACE FUNCTION referral_sync_referral_checks(p_as_of timestamptz, p_referrers text[])
RETURNS TABLE (referral_id text, referrer_id text, created_at timestamptz, reason text, rejected_at timestamptz,
               rejected boolean, channel text)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT r.referral_id, r.referrer_id, r.created_at,
           CASE
               WHEN r.created_at > p_as_of THEN 'created_after_as_of'
               WHEN r.recipient_customer_id = r.referrer_id THEN 'self_referral_by_customer_id'
               -- Only two present, non-blank emails can be the same.
               WHEN nullif(lower(btrim(r.recipient_email)), '') = nullif(lower(btrim(referrer.email)), '')
                   THEN 'self_referral_by_email'
           END,
           j.rejected_at,
           coalesce(j.rejected_at <= p_as_of, false),
           r.channel
    FROM referrals r
    JOIN customers referrer ON referrer.customer_id = r.referrer_id
    LEFT JOIN referral_rejections j
        ON referral_sync_same_referral(j.referral_id, j.referrer_id, r.referral_id, r.referrer_id)
    WHERE p_referrers IS NULL OR r.referrer_id = ANY (p_referrers)
$$;

-- The words of a referral's row in rejected_rows.csv (README "Rejected rows and row accounting"), beside its reason
-- code above. STABLE like the time format it uses (20_dates), so PostgreSQL inlines it into the refresh rather than
-- calling it per row. Searched CASEs only (WHEN reason = …), here and in every rule a statement that writes may
-- inline: Citus evaluates the WHEN values of a simple CASE (CASE reason WHEN …) of such a statement as if they were
-- constants, to NULL (98_citus_forms).
CREATE OR REPLACE FUNCTION referral_sync_referral_row_detail(reason text, created_at timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
    RETURN CASE
        WHEN reason = 'created_after_as_of'
            THEN 'created_at ' || referral_sync_detail_time(created_at) || ' is after --as-of'
        WHEN reason = 'self_referral_by_customer_id' THEN 'the recipient is the referrer (same customer_id)'
        ELSE 'the recipient email is the referrer''s own email'
    END;

-- The words of a rejection's row in rejected_rows.csv (reason rejected_after_as_of): a rejection dated after as-of
-- does not apply yet.
CREATE OR REPLACE FUNCTION referral_sync_rejection_row_detail(rejected_at timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
    RETURN 'rejected_at ' || referral_sync_detail_time(rejected_at) || ' is after --as-of';
