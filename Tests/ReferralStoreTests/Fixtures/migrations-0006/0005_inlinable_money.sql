-- 0005: the money rule of 0002, rewritten so PostgreSQL can inline it into the attribute query (BENCHMARKS.md).
-- Same result for every input; only the form changes.
--
-- A SQL function is inlined (its body pasted into the calling query, constants folded, no per-call executor)
-- only when its body is a single expression: no FROM clause, and, for a STRICT function, no CASE. 0002's form had
-- both, so it ran as a separate little query per participant (about 5 microseconds a call, 0.5 s per 100,000
-- participants); inlined, with the minor units a constant, 10 ^ minor_units is folded once per query and the
-- rule costs about a tenth of that.

-- Money rule (README "Attribute definitions"): rounded once, half to even, to the currency's minor units; text
-- keeps the trailing zeros. Not STRICT, yet a NULL argument still gives NULL: every operator below is strict.
CREATE OR REPLACE FUNCTION referral_sync_money(amount numeric, minor_units integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (CASE
        WHEN abs(amount * (10::numeric ^ minor_units) - trunc(amount * (10::numeric ^ minor_units))) = 0.5
            THEN round((trunc(amount * (10::numeric ^ minor_units))
                        + CASE WHEN mod(trunc(amount * (10::numeric ^ minor_units)), 2) = 0 THEN 0
                               ELSE sign(amount) END)
                       / (10::numeric ^ minor_units), minor_units)
        ELSE round(amount, minor_units)
    END)::text
$$;
