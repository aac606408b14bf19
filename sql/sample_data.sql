-- A small, realistic sample of an Okendo Referrals export for `make demo`: a shop in USD, referrers with
-- several, one or no successful referrals, and a few rows the job must reject (README "Rejected rows").
BEGIN;
TRUNCATE referral_coupons, referral_rejections, referral_orders, referrals, customers;

INSERT INTO customers (customer_id, email, phone, first_name, last_name, locale, shareable_link, opted_in_at) VALUES
 ('cus_001', 'ocean.grove@example.com', '+14155550101', 'Ocean', 'Grove', 'en', 'https://test.oken.do/z7itbfwu', '2024-11-05T07:37:47.959Z'),
 ('cus_002', 'maya.patel@example.com', '+14155550102', 'Maya', 'Patel', 'en', 'https://test.oken.do/a81kd02m', '2024-10-01T12:00:00Z'),
 ('cus_003', 'Lars.Nilsson@Example.COM ', NULL, 'Lars', 'Nilsson', 'sv', 'https://test.oken.do/l4rs0001', '2024-09-12T08:15:00Z'),
 ('cus_004', NULL, '+447700900123', 'Amelia', 'Jones', 'en-GB', 'https://test.oken.do/am3l1a99', '2024-08-20T19:45:10Z'),
 ('cus_005', 'zoë.müller@example.de', '+4915112345678', 'Zoë', 'Müller', 'de', 'https://test.oken.do/z0em0005', '2024-07-30T10:00:00Z'),
 ('cus_006', 'not-an-email', '555-0106', 'Sam', 'Nobody', 'en', 'https://test.oken.do/s4mn0006', '2024-11-01T00:00:00Z'),
 ('cus_007', 'quiet.optin@example.com', NULL, 'Quinn', 'Opt', 'en', 'https://test.oken.do/q0000007', '2024-11-02T09:00:00Z'),
 ('cus_008', 'friend.one@example.com', NULL, 'Friend', 'One', 'en', NULL, NULL),
 ('cus_009', 'friend.two@example.com', '+14155550109', 'Friend', 'Two', 'en', NULL, NULL),
 ('cus_010', 'self.referrer@example.com', '+14155550110', 'Selma', 'Self', 'en', 'https://test.oken.do/s3lf0010', '2024-10-10T10:10:10Z'),
 ('cus_011', 'referrer.only@example.com', NULL, 'Rae', 'Ferrer', 'en', 'https://test.oken.do/r4e00011', NULL);

INSERT INTO referrals (referral_id, referrer_id, recipient_email, recipient_customer_id, channel, created_at) VALUES
 ('ref_001', 'cus_001', 'friend.one@example.com', 'cus_008', 'email', '2024-11-05T07:40:00Z'),
 ('ref_002', 'cus_001', 'friend.two@example.com', 'cus_009', 'shareable_link', '2024-11-06T10:00:00Z'),
 ('ref_003', 'cus_001', 'someone.else@example.com', NULL, 'email', '2024-11-07T11:00:00Z'),
 ('ref_004', 'cus_002', 'pal@example.com', NULL, 'email', '2024-10-02T09:00:00Z'),
 ('ref_005', 'cus_002', 'buddy@example.com', NULL, 'email', '2024-10-03T09:00:00Z'),
 ('ref_006', 'cus_003', 'venn@example.se', NULL, 'email', '2024-09-13T09:00:00Z'),
 ('ref_007', 'cus_004', 'mate@example.co.uk', NULL, 'shareable_link', '2024-08-21T09:00:00Z'),
 ('ref_008', 'cus_005', 'freund@example.de', NULL, 'email', '2024-08-01T09:00:00Z'),
 ('ref_009', 'cus_006', 'x@example.com', NULL, 'email', '2024-11-01T01:00:00Z'),
 ('ref_010', 'cus_010', 'SELF.REFERRER@example.com', NULL, 'email', '2024-10-11T09:00:00Z'),
 ('ref_011', 'cus_010', NULL, 'cus_010', 'shareable_link', '2024-10-12T09:00:00Z'),
 ('ref_012', 'cus_011', 'newfriend@example.com', NULL, 'email', '2024-11-03T09:00:00Z');

INSERT INTO referral_orders (order_id, order_number, referral_id, coupon_code, total_price, discount_amount, currency, redeemed_at) VALUES
 ('ord_001', '#1001', 'ref_001', 'OKR0-00001', 50.00, 10, 'USD', '2024-11-06T06:10:36.989Z'),
 ('ord_002', '#1002', 'ref_002', 'OKR0-00002', 32.50, 10, 'USD', '2024-11-08T06:10:36.989Z'),
 ('ord_003', '#1003', 'ref_002', 'OKR0-00002', 99.00, 10, 'USD', '2024-11-09T06:00:00Z'),
 ('ord_004', '#1004', 'ref_004', 'OKR0-00004', 120.00, 15, 'USD', '2024-10-05T14:00:00Z'),
 ('ord_005', '#1005', 'ref_005', 'OKR0-00005', 80.00, 15, 'USD', '2024-10-06T14:00:00Z'),
 ('ord_006', '#1006', 'ref_006', 'OKR0-00006', 45.125, 5, 'USD', '2024-09-14T09:00:00Z'),
 ('ord_007', '#1007', 'ref_007', 'OKR0-00007', 60.00, 10, 'GBP', '2024-08-22T09:00:00Z'),
 ('ord_008', '#1008', 'ref_008', 'OKR0-00008', -20.00, 0, 'USD', '2024-08-02T09:00:00Z'),
 ('ord_009', '#1009', 'ref_009', 'OKR0-00009', 25.00, 5, 'USD', '2024-10-31T09:00:00Z'),
 ('ord_010', '#1010', 'ref_010', 'OKR0-00010', 70.00, 10, 'USD', '2024-10-12T09:00:00Z'),
 ('ord_011', '#1011', 'ref_011', 'OKR0-00011', 70.00, 10, 'USD', '2024-10-13T09:00:00Z'),
 ('ord_012', '#1012', 'ref_012', 'OKR0-00012', 0.00, 10, 'USD', '2024-11-04T09:00:00Z');

-- ref_005 was rejected (a fraudulent order).
INSERT INTO referral_rejections (referral_id, rejection_type, reason, rejected_at) VALUES
 ('ref_005', 'manual', 'Invalid Email: buddy@example.com', '2024-10-07T09:00:00Z');
-- The coupons Okendo issued: the friends' (role recipient) and a referrer's reward (role referrer).
INSERT INTO referral_coupons (coupon_code, referral_id, customer_id, role, description, issued_at, expires_at) VALUES
 ('OKR0-00001', 'ref_001', 'cus_008', 'recipient', '$10 off your first order', '2024-11-05T07:40:01Z', '2024-12-05T00:00:00Z'),
 ('OKR0-00002', 'ref_002', 'cus_009', 'recipient', '$10 off your first order', '2024-11-06T10:00:01Z', '2024-12-06T00:00:00Z'),
 ('OKR-REWARD-001', 'ref_001', 'cus_001', 'referrer', '$15 reward for a successful referral', '2024-11-06T06:10:40Z', NULL);
COMMIT;
