-- Text that leaves for Attentive (README "Identities" and "Events", issue 16), the attribute values and the event
-- properties alike: Unicode bidirectional controls (U+202A-U+202E, U+2066-U+2069, the "Trojan Source" trick that
-- makes a name in an email read as something else) and control characters (C0, DEL, C1) removed.

-- The characters removed, as a regular expression class: one definition for the rule and for its words below.
-- A constant, so PostgreSQL folds it into the queries that inline the rule.
CREATE OR REPLACE FUNCTION referral_sync_outbound_hidden() RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN '[\u0001-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]';

CREATE OR REPLACE FUNCTION referral_sync_outbound_text(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN regexp_replace(value, referral_sync_outbound_hidden(), '', 'g');

-- What the rule removes from a value, in words for warnings.csv (reports/README.md): how many characters and
-- which, '2 characters removed: U+202E' (a marker, never the character itself); NULL when it removes nothing.
-- Called only for the few values the rule changes.
CREATE OR REPLACE FUNCTION referral_sync_outbound_removed(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT count(*) || CASE WHEN count(*) = 1 THEN ' character' ELSE ' characters' END || ' removed: '
           || string_agg(DISTINCT 'U+' || lpad(upper(to_hex(ascii(m.hidden[1]))), 4, '0'), ', '
                         ORDER BY 'U+' || lpad(upper(to_hex(ascii(m.hidden[1]))), 4, '0'))
    FROM regexp_matches(value, '(' || referral_sync_outbound_hidden() || ')', 'g') AS m (hidden)
    HAVING count(*) > 0;
END;

-- An event's properties (compact JSON text) with every string value through the rule above; the same text when
-- nothing needs it (a pattern over the JSON text decides: control characters are escaped there, \uXXXX or \n).
CREATE OR REPLACE FUNCTION referral_sync_outbound_properties(properties json) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE
        WHEN properties::text !~ '\\(u00[01][0-9a-fA-F]|u007[fF]|[bfnrt])|[\u0080-\u009f\u202a-\u202e\u2066-\u2069]'
            THEN properties::text
        ELSE (SELECT json_strip_nulls(json_object_agg(
                         m.key, CASE WHEN json_typeof(m.value) = 'string'
                                     THEN to_json(referral_sync_outbound_text(m.value #>> '{}')) ELSE m.value END
                         ORDER BY m.ordinality))::text
              FROM json_each(properties) WITH ORDINALITY AS m (key, value, ordinality))
    END;
