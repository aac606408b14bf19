-- The rules' form on Citus (issue 28; README "Several workers and a distributed PostgreSQL"). Applied last by every
-- migrate; on a database without the citus extension it changes nothing, so one server keeps the forms above.
--
-- Every rule that reads a table is a SQL function above, which PostgreSQL inlines into the calling query. Citus
-- decides whether a query is distributed before PostgreSQL inlines anything, so a SQL function hides the
-- distributed tables it reads, and Citus refuses the query once they appear ("parameterized queries for SQL
-- functions referencing distributed tables are not supported"; its hint: PL/pgSQL). So on Citus each of them
-- becomes the same query in a PL/pgSQL function (RETURN QUERY for a set, RETURN for a value), which Citus plans as
-- a distributed query of its own each time it runs. The query is the SQL function's own text, taken from the
-- catalog: the rule keeps its one home above. Column names win over the function's parameter names, as they do
-- in a SQL function (#variable_conflict use_column).
--
-- Citus runs a function called in a query on a distributed table on the worker that holds the table's shard, in a
-- session whose search_path is not the job's: each PL/pgSQL function of the store (these and those written so)
-- gets its own schema as search_path, as the triggers already do (70_change_notes).
--
-- There a rule's own query is a distributed query run from a query on a shard, which Citus refuses by default
-- ("cannot execute a distributed query from a query on a shard"): a query it sent to another node would run in
-- another transaction, blind to what this one wrote. In a distributed schema (schema-based sharding) every table of
-- the store lives on one node, so such a query only ever reads shards of that node, in the same transaction: each
-- PL/pgSQL function of a store in a distributed schema allows it for its own duration
-- (citus.allow_nested_distributed_execution), and nothing else does. A store made a distributed schema after its
-- migrate (citus_schema_distribute) gets it from its next migrate.
DO $forms$
DECLARE
    f record;
    body text;
    distributed_schema boolean;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus') THEN
        RETURN;
    END IF;
    FOR f IN
        SELECT p.oid, p.proname, p.prosrc, p.proretset, p.prorettype = 'void'::regtype AS returns_void,
               p.provolatile, p.proparallel, p.prosecdef
        FROM pg_proc p
        JOIN pg_language l ON l.oid = p.prolang
        WHERE p.pronamespace = current_schema()::regnamespace
          AND p.proname LIKE 'referral\_sync\_%'
          AND l.lanname = 'sql'
          AND p.prosqlbody IS NULL
          -- A FROM that is not IS [NOT] DISTINCT FROM: a query that reads something.
          AND regexp_replace(p.prosrc, 'distinct\s+from', '', 'gi') ~* '\mfrom\M'
    LOOP
        body := btrim(f.prosrc, E' \t\n;');
        body := CASE WHEN f.proretset THEN 'RETURN QUERY ' || body || ';'
                     WHEN f.returns_void THEN body || ';'
                     ELSE 'RETURN (' || body || ');' END;
        EXECUTE format(
            'CREATE OR REPLACE FUNCTION %s(%s) RETURNS %s LANGUAGE plpgsql %s %s %s AS %L',
            f.oid::regproc, pg_get_function_arguments(f.oid), pg_get_function_result(f.oid),
            CASE f.provolatile WHEN 'i' THEN 'IMMUTABLE' WHEN 's' THEN 'STABLE' ELSE 'VOLATILE' END,
            CASE f.proparallel WHEN 's' THEN 'PARALLEL SAFE' WHEN 'r' THEN 'PARALLEL RESTRICTED'
                               ELSE 'PARALLEL UNSAFE' END,
            CASE WHEN f.prosecdef THEN 'SECURITY DEFINER' ELSE '' END,
            E'#variable_conflict use_column\nBEGIN\n' || body || E'\nEND');
    END LOOP;
    -- pg_dist_schema: Citus 12 and later (schema-based sharding).
    distributed_schema := false;
    IF to_regclass('pg_catalog.pg_dist_schema') IS NOT NULL THEN
        EXECUTE 'SELECT EXISTS (SELECT FROM pg_dist_schema WHERE schemaid = current_schema()::regnamespace)'
            INTO distributed_schema;
    END IF;
    FOR f IN
        SELECT p.oid, p.proconfig
        FROM pg_proc p
        JOIN pg_language l ON l.oid = p.prolang
        WHERE p.pronamespace = current_schema()::regnamespace
          AND p.proname LIKE 'referral\_sync\_%'
          AND l.lanname = 'plpgsql'
    LOOP
        IF NOT EXISTS (SELECT FROM unnest(f.proconfig) c WHERE c LIKE 'search\_path=%') THEN
            EXECUTE format('ALTER FUNCTION %s SET search_path = %I, pg_temp', f.oid::regprocedure, current_schema());
        END IF;
        IF distributed_schema THEN
            EXECUTE format('ALTER FUNCTION %s SET citus.allow_nested_distributed_execution = on',
                           f.oid::regprocedure);
        END IF;
    END LOOP;
END
$forms$;
