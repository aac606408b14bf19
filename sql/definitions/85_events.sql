-- Referral events (README "Events"): which events the landing zone implies, with their user and properties, for
-- the rows `referral-sync events` considers. One row per event, or per row that cannot make its event (reason
-- set, nothing sent). Built on the definitions above: identities (10), dates (20), money (30), referral checks
-- (40), the qualifying order and successful referrals (50, 52). Every event not yet due (occurred after p_as_of)
-- comes back with reason 'not_yet' and the note (note_source, note_key) that brings its row back, so the caller
-- can note it again for that time. warning: the words of sql/queries/warnings.sql when the event's user is sent with
-- one identity because the rules refuse the other (the stored email refused, sent by phone only; or the reverse).
--
-- The rows: p_all (a backfill: every row), or the keys of each source (the event notes): customers by
-- customer_id, referrals by referral_id, the reward of the referrals p_redemptions (an order or a rejection of the
-- referral changed), rejections by referral_id, coupons by coupon_code.
--
-- event_key names the event for its UUID (type|role|source:key) and for the ledger: the reward of a referral is
-- keyed by the referral, so a referral earns one reward event whichever of its orders qualifies.

-- The hash of an event's body as sent (its UTF-8 bytes, SHA-256, hex): what stays of a body that retention or
-- forget strips (README "Personal data"). IMMUTABLE, which convert_to is not (it may depend on the database's
-- encoding, always UTF8 here: migrate refuses another): Citus refuses a function that is not IMMUTABLE inside the
-- COALESCE of an UPDATE, where both callers use it (98_citus_forms).
CREATE OR REPLACE FUNCTION referral_sync_body_sha256(body text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN encode(sha256(convert_to(body, 'UTF8')), 'hex');

-- Channels (compared trimmed and case-insensitively): 'email' is an email referral; 'link', 'shareable_link',
-- 'shareable link' and 'share_link' a shareable-link referral; any other channel, or none, makes no referral
-- event (reason unknown_channel).
CREATE OR REPLACE FUNCTION referral_sync_channel_kind(channel text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE
               WHEN lower(btrim(channel)) = 'email' THEN 'email'
               WHEN lower(btrim(channel)) IN ('link', 'shareable_link', 'shareable link', 'share_link') THEN 'link'
           END;

-- A customer's name as one string: first and last, either alone when the other is missing.
CREATE OR REPLACE FUNCTION referral_sync_full_name(first_name text, last_name text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN nullif(btrim(coalesce(btrim(first_name), '') || ' ' || coalesce(btrim(last_name), '')), '');

-- The warning column changed the result type: the old one goes first.
DROP FUNCTION IF EXISTS referral_sync_event_candidates(timestamptz, text, integer, text, boolean, text[], text[],
                                                       text[], text[], text[]);
CREATE OR REPLACE FUNCTION referral_sync_event_candidates(
    p_as_of timestamptz, p_currency text, p_minor_units integer, p_default_region text, p_all boolean,
    p_customers text[], p_referrals text[], p_redemptions text[], p_rejections text[], p_coupons text[])
RETURNS TABLE (event_key text, type text, role text, source_row text, note_source text, note_key text,
               occurred_at timestamptz, user_email text, user_phone text, properties text, reason text,
               text_cleaned boolean, warning text)
-- plpgsql, so the referrers of the keyed referrals are found first and reach the rule functions as values (a
-- subquery argument would keep PostgreSQL from inlining them, and they would read every referral); custom plans,
-- so a quiet run's few keys use the indexes.
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
DECLARE
    referral_referrers text[];
    redemption_referrers text[];
    considered_referrals text[];
    other_people text[];
    by_row boolean := referral_sync_distributed_by_row();
BEGIN
    IF NOT p_all THEN
        referral_referrers := ARRAY(SELECT r.referrer_id FROM referrals r WHERE r.referral_id = ANY (p_referrals));
        redemption_referrers := ARRAY(SELECT r.referrer_id FROM referrals r WHERE r.referral_id = ANY (p_redemptions));
        -- The referrals whose sides an event may name (keyed, rewarded, rejected, or a keyed coupon's): one list
        -- of keys, so each is one index lookup (an OR of the lists scanned every referral).
        considered_referrals := p_referrals || p_redemptions || p_rejections
                                || ARRAY(SELECT cp.referral_id FROM referral_coupons cp
                                         WHERE cp.coupon_code = ANY (p_coupons) AND cp.referral_id IS NOT NULL);
        -- Their recipients, and the holders of the coupons considered.
        other_people := ARRAY(
            SELECT r.recipient_customer_id FROM referrals r
            WHERE r.recipient_customer_id IS NOT NULL AND r.referral_id = ANY (considered_referrals)
            UNION
            SELECT cp.customer_id FROM referral_coupons cp
            WHERE cp.customer_id IS NOT NULL AND cp.coupon_code = ANY (p_coupons));
    END IF;
    RETURN QUERY
    WITH
    -- Each customer's identity as Attentive gets it (10_identities), and the fields events carry.
    people AS NOT MATERIALIZED (
        SELECT c.customer_id, referral_sync_email(c.email) AS email,
               referral_sync_phone(c.phone, p_default_region) AS phone, c.first_name, c.last_name, c.locale,
               c.opted_in_at, c.email AS stored_email, c.phone AS stored_phone
        FROM customers c
    ),
    -- The people a row names besides its referrer: a referral's recipient, a coupon's holder. Read by key, on their
    -- own, before any join: in a store distributed by row they live on other customers' shards, and Citus joins
    -- a row to them right only as a set read first (joined in place, 19 rejections' recipients of the fuzz history
    -- came back empty, without an error).
    others AS MATERIALIZED (
        SELECT p.* FROM people p
        WHERE p_all OR p.customer_id = ANY (other_people)
    ),
    keyed_referrals AS (
        SELECT r.*, referral_sync_channel_kind(r.channel) AS kind
        FROM referrals r
        WHERE p_all OR r.referral_id = ANY (p_referrals)
    ),
    -- Both sides of a referral: the referrer, and the recipient (recipient_email, else the recipient customer's
    -- identity). In a store distributed by row, filtered here to the referrals considered, not only by the joins
    -- below: Citus reads this set on its own (it is joined to rows of other shards), and without the keys it read
    -- every referral (a first run at a million: 39 s). Elsewhere the custom plan drops the filter (by_row is a
    -- constant false): on one server it made a keyed discovery 0.3 s slower at a million.
    referral_sides AS NOT MATERIALIZED (
        SELECT r.referral_id, r.referrer_id, r.channel, r.created_at, r.recipient_email,
               referrer.email AS referrer_email, referrer.phone AS referrer_phone,
               referrer.stored_email AS referrer_stored_email, referrer.stored_phone AS referrer_stored_phone,
               referrer.first_name AS referrer_first_name, referrer.last_name AS referrer_last_name,
               referrer.locale AS referrer_locale,
               coalesce(referral_sync_email(r.recipient_email), recipient.email) AS recipient_send_email,
               -- The recipient customer's phone only when the email is theirs too: never one person's email with
               -- another's phone, which Attentive would merge into one profile.
               CASE WHEN referral_sync_email(r.recipient_email) IS NULL
                         OR referral_sync_email(r.recipient_email) = recipient.email
                    THEN recipient.phone END AS recipient_phone,
               -- What the recipient's identity was taken from, for the warning's words.
               CASE WHEN referral_sync_trim(r.recipient_email) <> '' THEN r.recipient_email
                    ELSE recipient.stored_email END AS recipient_stored_email,
               CASE WHEN referral_sync_email(r.recipient_email) IS NULL
                         OR referral_sync_email(r.recipient_email) = recipient.email
                    THEN recipient.stored_phone END AS recipient_stored_phone,
               recipient.first_name AS recipient_first_name, recipient.last_name AS recipient_last_name,
               coalesce(recipient.locale, referrer.locale) AS recipient_locale
        FROM referrals r
        JOIN people referrer ON referrer.customer_id = r.referrer_id
        LEFT JOIN others recipient ON recipient.customer_id = r.recipient_customer_id
        WHERE p_all OR NOT by_row OR r.referral_id = ANY (considered_referrals)
    ),
    checks AS (
        SELECT rc.referral_id, rc.reason
        FROM referral_sync_referral_checks(
                 p_as_of,
                 CASE WHEN p_all THEN NULL ELSE referral_referrers END) rc
        WHERE p_all OR rc.referral_id = ANY (p_referrals)
    ),
    events AS (
        -- The customer opted in to the referral program (role referrer).
        SELECT 'Opted In to Okendo Referrals' AS type, 'referrer' AS role, 'customers:' || p.customer_id AS source,
               'customers:' || p.customer_id AS source_row, 'customers' AS note_source, p.customer_id AS note_key,
               p.opted_in_at AS occurred_at, p.email, p.phone,
               json_build_object(
                   'Locale', p.locale, 'Customer Role', 'referrer',
                   'Referrer Name', referral_sync_full_name(p.first_name, p.last_name),
                   'Referrer Email', p.email, 'Date Opted-In', referral_sync_timestamp(p.opted_in_at)) AS properties,
               NULL::text AS problem, p.stored_email, p.stored_phone
        FROM people p
        WHERE p.opted_in_at IS NOT NULL AND (p_all OR p.customer_id = ANY (p_customers))
        UNION ALL
        -- A shareable-link referral: the recipient opted in through the link (role recipient), and the referrer
        -- learns the link was used.
        SELECT 'Opted In to Okendo Referrals', 'recipient', 'referrals:' || s.referral_id,
               'referrals:' || s.referral_id, 'referrals', s.referral_id, s.created_at, s.recipient_send_email,
               s.recipient_phone,
               json_build_object(
                   'Locale', s.recipient_locale, 'Recipient First Name', s.recipient_first_name,
                   'Recipient Last Name', s.recipient_last_name, 'Recipient Email', s.recipient_send_email,
                   'Customer Role', 'recipient', 'Date Opted-In', referral_sync_timestamp(s.created_at)),
               ch.reason, s.recipient_stored_email, s.recipient_stored_phone
        FROM keyed_referrals k JOIN referral_sides s USING (referral_id) JOIN checks ch USING (referral_id)
        WHERE k.kind = 'link'
        UNION ALL
        SELECT 'Okendo Shareable Link Used', 'referrer', 'referrals:' || s.referral_id,
               'referrals:' || s.referral_id, 'referrals', s.referral_id, s.created_at, s.referrer_email,
               s.referrer_phone,
               json_build_object(
                   'Recipient Full Name', referral_sync_full_name(s.recipient_first_name, s.recipient_last_name),
                   'Recipient Email', s.recipient_send_email, 'Customer Role', 'referrer',
                   'Date Opted-In', referral_sync_timestamp(s.created_at)),
               ch.reason, s.referrer_stored_email, s.referrer_stored_phone
        FROM keyed_referrals k JOIN referral_sides s USING (referral_id) JOIN checks ch USING (referral_id)
        WHERE k.kind = 'link'
        UNION ALL
        -- An email referral: the referrer sent it, and the recipient receives the invitation.
        SELECT 'Sent Okendo Referral', 'referrer', 'referrals:' || s.referral_id, 'referrals:' || s.referral_id,
               'referrals', s.referral_id, s.created_at, s.referrer_email, s.referrer_phone,
               json_build_object(
                   'Locale', s.referrer_locale, 'Referrer First Name', s.referrer_first_name,
                   'Referrer Last Name', s.referrer_last_name, 'Recipient Email', s.recipient_send_email,
                   'Customer Role', 'referrer', 'Date Sent', referral_sync_timestamp(s.created_at)),
               ch.reason, s.referrer_stored_email, s.referrer_stored_phone
        FROM keyed_referrals k JOIN referral_sides s USING (referral_id) JOIN checks ch USING (referral_id)
        WHERE k.kind = 'email'
        UNION ALL
        SELECT 'Okendo Referral Invitation', 'recipient', 'referrals:' || s.referral_id,
               'referrals:' || s.referral_id, 'referrals', s.referral_id, s.created_at, s.recipient_send_email,
               s.recipient_phone,
               json_build_object(
                   'Locale', s.recipient_locale, 'Referrer First Name', s.referrer_first_name,
                   'Referrer Last Name', s.referrer_last_name, 'Recipient Email', s.recipient_send_email,
                   'Customer Role', 'recipient', 'Date Sent', referral_sync_timestamp(s.created_at)),
               ch.reason, s.recipient_stored_email, s.recipient_stored_phone
        FROM keyed_referrals k JOIN referral_sides s USING (referral_id) JOIN checks ch USING (referral_id)
        WHERE k.kind = 'email'
        UNION ALL
        -- A referral of another channel: no event, listed.
        SELECT '', '', 'referrals:' || k.referral_id, 'referrals:' || k.referral_id, 'referrals', k.referral_id,
               k.created_at, NULL, NULL, NULL, 'unknown_channel', NULL, NULL
        FROM keyed_referrals k
        WHERE k.kind IS NULL
        UNION ALL
        -- The referrer's reward: the qualifying order of a successful referral (52), keyed by the referral.
        SELECT 'Redeemed Okendo Referral Coupon', 'referrer', 'referrals:' || s.referral_id,
               'referral_orders:' || o.order_id, 'referral_orders', q.referral_id, o.redeemed_at, s.referrer_email,
               s.referrer_phone,
               json_build_object(
                   'Date Redeemed', referral_sync_timestamp(o.redeemed_at), 'Customer Role', 'referrer',
                   'Order Discount Amount', referral_sync_money(o.discount_amount, p_minor_units),
                   'Order ID', o.order_id, 'Order Number', o.order_number,
                   'Order Total Price', referral_sync_money(o.total_price, p_minor_units), 'Currency', o.currency),
               NULL, s.referrer_stored_email, s.referrer_stored_phone
        FROM referral_sync_successful_referrals(
                 p_as_of, p_currency,
                 CASE WHEN p_all THEN NULL ELSE redemption_referrers END) q
        JOIN referral_orders o
            ON o.order_id = q.order_id AND referral_sync_same_referral(o.referral_id, o.referrer_id, q.referral_id,
                                                                       q.referrer_id)
        JOIN referral_sides s ON referral_sync_same_referral(s.referral_id, s.referrer_id, q.referral_id, q.referrer_id)
        WHERE p_all OR q.referral_id = ANY (p_redemptions)
        UNION ALL
        -- Orders of those referrals that earn no reward, with the reason code of rejected_rows.csv; and orders
        -- not yet redeemed at the as-of, which are due later.
        SELECT 'Redeemed Okendo Referral Coupon', 'referrer', 'referral_orders:' || oc.order_id,
               'referral_orders:' || oc.order_id, 'referral_orders', oc.referral_id, oc.redeemed_at, NULL, NULL,
               NULL,
               CASE WHEN oc.reason = 'redeemed_after_as_of' THEN 'not_yet'
                    ELSE referral_sync_order_row_reason(oc.reason, oc.referral_rejected) END,
               NULL, NULL
        FROM referral_sync_order_checks(
                 p_as_of, p_currency,
                 CASE WHEN p_all THEN NULL ELSE redemption_referrers END) oc
        WHERE (p_all OR oc.referral_id = ANY (p_redemptions))
          AND (oc.reason IS NOT NULL OR oc.referral_rejected OR oc.order_rank > 1)
        UNION ALL
        -- A rejection: the referrer and the recipient are each told.
        SELECT 'Okendo Referral Rejected', side.role, 'referral_rejections:' || j.referral_id,
               'referral_rejections:' || j.referral_id, 'referral_rejections', j.referral_id, j.rejected_at,
               side.email, side.phone,
               json_build_object(
                   'Customer Role', side.role, 'Should Notify Customer', coalesce(j.should_notify_customer, true),
                   'Rejection Reason', j.reason, 'Rejection Type', j.rejection_type, 'Email', side.email,
                   'Locale', side.locale),
               NULL, side.stored_email, side.stored_phone
        FROM referral_rejections j
        JOIN referral_sides s ON referral_sync_same_referral(s.referral_id, s.referrer_id, j.referral_id, j.referrer_id)
        CROSS JOIN LATERAL (
            VALUES ('referrer', s.referrer_email, s.referrer_phone, s.referrer_locale, s.referrer_stored_email,
                    s.referrer_stored_phone),
                   ('recipient', s.recipient_send_email, s.recipient_phone, s.recipient_locale,
                    s.recipient_stored_email, s.recipient_stored_phone)
        ) AS side (role, email, phone, locale, stored_email, stored_phone)
        WHERE p_all OR j.referral_id = ANY (p_rejections)
        UNION ALL
        -- A coupon issued: to its customer, else to the side of its referral its role names.
        SELECT 'Received Okendo Referral Coupon', coalesce(lower(btrim(cp.role)), ''),
               'referral_coupons:' || cp.coupon_code, 'referral_coupons:' || cp.coupon_code, 'referral_coupons',
               cp.coupon_code, cp.issued_at,
               CASE WHEN cp.customer_id IS NOT NULL THEN holder.email
                    WHEN lower(btrim(cp.role)) = 'referrer' THEN s.referrer_email
                    ELSE s.recipient_send_email END,
               CASE WHEN cp.customer_id IS NOT NULL THEN holder.phone
                    WHEN lower(btrim(cp.role)) = 'referrer' THEN s.referrer_phone
                    ELSE s.recipient_phone END,
               json_build_object(
                   'Coupon Code', cp.coupon_code, 'Coupon Description', cp.description,
                   'Coupon Expiry Date', referral_sync_timestamp(cp.expires_at),
                   'Date Received', referral_sync_timestamp(cp.issued_at),
                   'Customer Role', lower(btrim(cp.role))),
               CASE WHEN lower(btrim(cp.role)) NOT IN ('referrer', 'recipient') THEN 'unknown_coupon_role' END,
               CASE WHEN cp.customer_id IS NOT NULL THEN holder.stored_email
                    WHEN lower(btrim(cp.role)) = 'referrer' THEN s.referrer_stored_email
                    ELSE s.recipient_stored_email END,
               CASE WHEN cp.customer_id IS NOT NULL THEN holder.stored_phone
                    WHEN lower(btrim(cp.role)) = 'referrer' THEN s.referrer_stored_phone
                    ELSE s.recipient_stored_phone END
        FROM referral_coupons cp
        LEFT JOIN others holder ON holder.customer_id = cp.customer_id
        LEFT JOIN referral_sides s ON s.referral_id = cp.referral_id
        WHERE p_all OR cp.coupon_code = ANY (p_coupons)
    )
    SELECT e.type || '|' || e.role || '|' || e.source, e.type, e.role, e.source_row, e.note_source, e.note_key,
           e.occurred_at, e.email, e.phone,
           referral_sync_outbound_properties(json_strip_nulls(e.properties)),
           CASE
               WHEN NOT isfinite(e.occurred_at) THEN 'occurred_at_not_finite'
               WHEN e.occurred_at > p_as_of OR e.problem = 'created_after_as_of' THEN 'not_yet'
               WHEN e.problem IS NOT NULL THEN e.problem
               WHEN e.email IS NULL AND e.phone IS NULL THEN 'no_usable_identity'
           END,
           referral_sync_outbound_properties(json_strip_nulls(e.properties))
               IS DISTINCT FROM json_strip_nulls(e.properties)::text,
           -- The words of warnings.sql's email_not_usable and phone_not_usable, for the identity left out.
           CASE
               WHEN e.email IS NULL AND e.phone IS NOT NULL AND referral_sync_trim(e.stored_email) <> ''
                   THEN 'email ' || referral_sync_email_refusal(e.stored_email) || '; sent by phone only'
               WHEN e.phone IS NULL AND e.email IS NOT NULL AND referral_sync_trim(e.stored_phone) <> ''
                    AND referral_sync_phone(e.stored_phone, p_default_region) IS NULL
                   THEN 'phone ' || referral_sync_phone_refusal(e.stored_phone, p_default_region)
                        || '; sent by email only'
           END
    FROM events e
    ;
END
$$;
