-- 0001: the referral-history landing zone (README "Input tables").
-- Exported Okendo Referrals data is loaded here as it comes. The tables carry keys and NOT NULL only, so a whole
-- export loads even when some rows are semantically bad; referral-sync validates every row and lists the bad
-- ones in rejected_rows.csv. Names and columns are a public contract.
CREATE TABLE IF NOT EXISTS customers (
    customer_id    text PRIMARY KEY,
    email          text,
    phone          text,
    first_name     text,
    last_name      text,
    locale         text,
    shareable_link text,
    opted_in_at    timestamptz
);

CREATE TABLE IF NOT EXISTS referrals (
    referral_id           text PRIMARY KEY,
    referrer_id           text NOT NULL REFERENCES customers,
    recipient_email       text,
    recipient_customer_id text,
    channel               text,
    created_at            timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS referral_orders (
    order_id        text PRIMARY KEY,
    order_number    text,
    referral_id     text NOT NULL REFERENCES referrals,
    coupon_code     text,
    total_price     numeric NOT NULL,
    discount_amount numeric NOT NULL DEFAULT 0,
    currency        text NOT NULL,
    redeemed_at     timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS referral_rejections (
    referral_id    text PRIMARY KEY REFERENCES referrals,
    rejection_type text,
    reason         text,
    rejected_at    timestamptz NOT NULL
);

-- "Referred at least once" and the referral-to-order join look referrals up by referrer and orders by referral.
CREATE INDEX IF NOT EXISTS referrals_referrer_id_idx ON referrals (referrer_id);
CREATE INDEX IF NOT EXISTS referral_orders_referral_id_idx ON referral_orders (referral_id);
