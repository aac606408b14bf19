-- 0003: the identity rules' second version (README "Identities"). The rules themselves now live in
-- sql/definitions/10_identities.sql, re-applied by every migrate; what stays here is the database they need.

-- Names, emails and Okendo's exports are Unicode: the rules below (NFC, no-break spaces) need a UTF8 database.
DO $migration$
BEGIN
    IF current_setting('server_encoding') <> 'UTF8' THEN
        RAISE EXCEPTION 'referral-sync needs a UTF8 database, this one is %', current_setting('server_encoding')
            USING HINT = 'Create the database with ENCODING ''UTF8'' and load the export into it.';
    END IF;
END
$migration$;
