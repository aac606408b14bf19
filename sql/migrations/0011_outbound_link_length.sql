-- 0011: what the outbound text rule (sql/definitions/15_outbound_text.sql, issue 16) took out of each
-- participant's shareable link, so a run can count and list the links it changed (reports/README.md
-- "warnings.csv") without reading the customers again. referral_sync_participant_values keeps the link as it is
-- sent; this is the stored link's length in bytes: the rule only removes characters, so the link was changed
-- exactly when the kept link is shorter. Filled by the refresh (sql/definitions/80_refresh.sql): a database
-- migrated from 0010 has NULLs here, but the definitions change with this migration, so the rules fingerprint
-- differs and its next refresh is a full one.
ALTER TABLE referral_sync_participant_values ADD COLUMN IF NOT EXISTS stored_link_octets integer;
