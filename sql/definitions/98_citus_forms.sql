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
-- A rule whose query calls another set-returning rule gets that rule's query written in, in place of the call (its
-- parameters replaced by the call's arguments): called, the inner rule would run on the coordinator as a query of
-- its own, its rows collected there and sent back to every node holding the outer query's tables before the outer
-- query could run (the order checks sent every referral's checks to each worker: 3 million rows to each of two
-- workers at a million participants, BENCHMARKS.md "Citus"). Written in, the rules are one query that Citus sends
-- to the nodes whole, each node joining its own rows. Only a call by position with every parameter given is
-- written in, of a rule whose parameters are named p_…, outside a comment; any other call stays a call.
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
    rules jsonb;
    rule jsonb;
    query text;
    done text;
    call_at integer;
    depth integer;
    quoted boolean;
    at integer;
    arguments text[];
    argument text;
    ch text;
    inner_query text;
    parameters text[];
    written boolean;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus') THEN
        RETURN;
    END IF;
    -- The rules to convert: each SQL function of the store that reads something (a FROM that is not IS [NOT]
    -- DISTINCT FROM), with its query, its parameters' names and its result's columns.
    DROP TABLE IF EXISTS pg_temp.referral_sync_rule_queries;
    CREATE TEMP TABLE referral_sync_rule_queries AS
    SELECT p.oid, p.proname::text AS name, btrim(p.prosrc, E' \t\n;') AS query, p.proretset AS returns_set,
           -- No modes: every argument is an input.
           ARRAY(SELECT a.name FROM unnest(p.proargnames, p.proargmodes) WITH ORDINALITY AS a (name, mode, n)
                 WHERE coalesce(a.mode, 'i') IN ('i', 'b', 'v') ORDER BY a.n) AS parameters,
           ARRAY(SELECT a.name FROM unnest(p.proargnames, p.proargmodes) WITH ORDINALITY AS a (name, mode, n)
                 WHERE a.mode = 't' ORDER BY a.n) AS columns
    FROM pg_proc p
    JOIN pg_language l ON l.oid = p.prolang
    WHERE p.pronamespace = current_schema()::regnamespace
      AND p.proname LIKE 'referral\_sync\_%'
      AND l.lanname = 'sql'
      AND p.prosqlbody IS NULL
      AND regexp_replace(p.prosrc, 'distinct\s+from', '', 'gi') ~* '\mfrom\M';
    -- The rules that can be written in: sets, whose parameters are named p_… and whose query names none by $n.
    rules := (SELECT coalesce(jsonb_agg(to_jsonb(q) - 'oid'), '[]') FROM referral_sync_rule_queries q
              WHERE q.returns_set AND q.query !~ '\$[0-9]'
                AND NOT EXISTS (SELECT FROM unnest(q.parameters) n WHERE n !~ '^p_[a-z_]+$'));
    FOR f IN
        SELECT p.oid, p.proname, q.query, p.proretset, p.prorettype = 'void'::regtype AS returns_void,
               p.provolatile, p.proparallel, p.prosecdef
        FROM referral_sync_rule_queries q
        JOIN pg_proc p ON p.oid = q.oid
    LOOP
        -- The calls of other rules written in (see above), again until none is left that can be: rules that call
        -- rules are written in as deep as they nest.
        query := f.query;
        written := true;
        WHILE written LOOP
            written := false;
            FOR rule IN SELECT r FROM jsonb_array_elements(rules) r LOOP
                done := '';
                LOOP
                    call_at := regexp_instr(query, '\m' || (rule ->> 'name') || '\s*\(');
                    EXIT WHEN call_at = 0;
                    done := done || left(query, call_at - 1);
                    query := substr(query, call_at);
                    -- A call named in a comment is left as it is.
                    IF substring(done FROM '[^\n]*$') LIKE '%--%' THEN
                        done := done || left(query, 1);
                        query := substr(query, 2);
                        CONTINUE;
                    END IF;
                    -- The arguments: split at the commas outside parentheses and quotes, up to the closing parenthesis.
                    at := strpos(query, '(') + 1;
                    depth := 0;
                    quoted := false;
                    arguments := ARRAY[]::text[];
                    argument := '';
                    LOOP
                        ch := substr(query, at, 1);
                        EXIT WHEN ch = '' OR (NOT quoted AND depth = 0 AND ch = ')');
                        IF ch = '''' THEN
                            quoted := NOT quoted;
                        ELSIF NOT quoted AND ch = '(' THEN
                            depth := depth + 1;
                        ELSIF NOT quoted AND ch = ')' THEN
                            depth := depth - 1;
                        END IF;
                        IF NOT quoted AND depth = 0 AND ch = ',' THEN
                            arguments := arguments || btrim(argument, E' \t\n');
                            argument := '';
                        ELSE
                            argument := argument || ch;
                        END IF;
                        at := at + 1;
                    END LOOP;
                    arguments := arguments || btrim(argument, E' \t\n');
                    parameters := ARRAY(SELECT jsonb_array_elements_text(rule -> 'parameters'));
                    IF ch = ')' AND cardinality(arguments) = cardinality(parameters)
                       AND NOT EXISTS (SELECT FROM unnest(arguments) a WHERE a ~ '=>' OR a = '') THEN
                        -- Each parameter becomes a mark first, then its argument: an argument that names another
                        -- parameter is not replaced again.
                        inner_query := rule ->> 'query';
                        FOR i IN 1 .. cardinality(parameters) LOOP
                            inner_query := regexp_replace(inner_query, '\m' || parameters[i] || '\M',
                                                          chr(1) || i || chr(2), 'g');
                        END LOOP;
                        FOR i IN 1 .. cardinality(parameters) LOOP
                            inner_query := replace(inner_query, chr(1) || i || chr(2), '(' || arguments[i] || ')');
                        END LOOP;
                        -- The closing parenthesis on a line of its own: the query may end in a comment. Named
                        -- written_in, not after the rule: its name before a parenthesis would read as a call.
                        done := done || format(E'(SELECT * FROM (\n%s\n) AS written_in (%s))', inner_query,
                                               (SELECT string_agg(quote_ident(c), ', ')
                                                FROM jsonb_array_elements_text(rule -> 'columns') c));
                        written := true;
                    ELSE
                        done := done || left(query, at);
                    END IF;
                    query := substr(query, at + 1);
                END LOOP;
                query := done || query;
            END LOOP;
        END LOOP;
        -- The end on a line of its own, for the same reason.
        body := CASE WHEN f.proretset THEN 'RETURN QUERY ' || query || E'\n;'
                     WHEN f.returns_void THEN query || E'\n;'
                     ELSE 'RETURN (' || query || E'\n);' END;
        EXECUTE format(
            'CREATE OR REPLACE FUNCTION %s(%s) RETURNS %s LANGUAGE plpgsql %s %s %s AS %L',
            f.oid::regproc, pg_get_function_arguments(f.oid), pg_get_function_result(f.oid),
            CASE f.provolatile WHEN 'i' THEN 'IMMUTABLE' WHEN 's' THEN 'STABLE' ELSE 'VOLATILE' END,
            CASE f.proparallel WHEN 's' THEN 'PARALLEL SAFE' WHEN 'r' THEN 'PARALLEL RESTRICTED'
                               ELSE 'PARALLEL UNSAFE' END,
            CASE WHEN f.prosecdef THEN 'SECURITY DEFINER' ELSE '' END,
            E'#variable_conflict use_column\nBEGIN\n' || body || E'\nEND');
    END LOOP;
    DROP TABLE referral_sync_rule_queries;
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
