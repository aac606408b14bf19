-- Refusals (README "Refusals"): which of a participant's values Attentive refused for their content (400, 413,
-- 422) and are not sent again: a `refused` row of referral_sync_pending (migration 0013) whose value and identity
-- are still the ones to be sent. A changed value, or a corrected email or phone, is new content and is sent.

-- An attribute's bit, as in the changed mask of sql/queries/participant_attributes.sql and OkendoAttribute.maskBit.
-- A searched CASE, as 40_referral_checks says why: a DELETE of pending values inlines it (Ledger.forgetPendingNotSeen).
CREATE OR REPLACE FUNCTION referral_sync_attribute_bit(attribute text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE
        WHEN attribute = 'Okendo Referral Shareable Link' THEN 1
        WHEN attribute = 'Okendo Number of Successful Referrals' THEN 2
        WHEN attribute = 'Okendo Latest Successful Referral Date' THEN 4
        WHEN attribute = 'Okendo Total Successful Referral Revenue' THEN 8
        ELSE 0
    END;

-- The mask of the participant's values whose refusal stands: refused for this very value sent to this very
-- identity. 0 when none.
CREATE OR REPLACE FUNCTION referral_sync_standing_refusals(
    customer_id text, send_email text, send_phone text, shareable_link text, successful_referrals text,
    latest_at text, revenue text) RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(bit_or(referral_sync_attribute_bit(r.attribute)), 0)
    FROM referral_sync_pending r
    WHERE r.customer_id = $1 AND r.state = 'refused'
      AND (r.sent_email, r.sent_phone) IS NOT DISTINCT FROM ($2, $3)
      AND r.value IS NOT DISTINCT FROM
          CASE referral_sync_attribute_bit(r.attribute) WHEN 1 THEN $4 WHEN 2 THEN $5 WHEN 4 THEN $6 WHEN 8 THEN $7 END
$$;
