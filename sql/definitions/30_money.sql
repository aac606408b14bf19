-- Money rule (README "Attribute definitions"): an exact numeric amount rounded once, half to even, to the
-- currency's ISO 4217 minor units; the text keeps the trailing zeros (42.00 USD, 4200 JPY, 1.250 KWD). Not STRICT,
-- yet a NULL argument still gives NULL: every operator below is strict.
--
-- The form matters for speed (BENCHMARKS.md): PostgreSQL inlines a SQL function (pastes its body into the calling
-- query, constants folded, no per-call executor) only when the body is a single expression: no FROM clause, and,
-- for a STRICT function, no CASE. Inlined, with the minor units a constant, 10 ^ minor_units is folded once per
-- query; called, the rule cost about 5 microseconds per participant. An amount with no more decimals than the
-- minor units (most prices) needs no rounding, only its trailing zeros: scale() says so and skips the half-to-even
-- arithmetic (0.08 s instead of 0.20 s for 400,000 amounts; the revenue report writes two per referrer).
CREATE OR REPLACE FUNCTION referral_sync_money(amount numeric, minor_units integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (CASE
        WHEN scale(amount) <= minor_units THEN round(amount, minor_units)
        WHEN abs(amount * (10::numeric ^ minor_units) - trunc(amount * (10::numeric ^ minor_units))) = 0.5
            THEN round((trunc(amount * (10::numeric ^ minor_units))
                        + CASE WHEN mod(trunc(amount * (10::numeric ^ minor_units)), 2) = 0 THEN 0
                               ELSE sign(amount) END)
                       / (10::numeric ^ minor_units), minor_units)
        ELSE round(amount, minor_units)
    END)::text;
