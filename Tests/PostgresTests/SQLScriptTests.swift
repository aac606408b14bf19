import Postgres
import Testing

/// `SQLScript.statements`: a script split at the semicolons that end statements, and nowhere else.
@Suite struct SQLScriptTests {
    @Test func splitsAtTheSemicolonsThatEndStatements() {
        #expect(SQLScript.statements("SELECT 1; SELECT 2;\n\nSELECT 3") == ["SELECT 1", "SELECT 2", "SELECT 3"])
        #expect(SQLScript.statements("  ;; \n -- only a comment\n; /* and another */ ") == [])
    }

    @Test func keepsSemicolonsInsideStringsIdentifiersCommentsAndDollarQuotes() {
        let script = """
            -- a comment; with a semicolon
            SELECT 'a;b', 'it''s; fine', E'back\\\\slash\\'; still', "odd;name" FROM t; /* block; /* nested; */ */
            CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;
            DO $body$ BEGIN PERFORM 1; RAISE NOTICE '$$;'; END $body$;
            SELECT $1::int, x$y FROM t WHERE a = ';'
            """
        let statements = SQLScript.statements(script)
        #expect(statements.count == 4, "\(statements)")
        #expect(statements[0].hasPrefix("-- a comment; with a semicolon\nSELECT 'a;b'"))
        #expect(statements[0].hasSuffix(#""odd;name" FROM t"#))
        #expect(statements[1].hasPrefix("/* block; /* nested; */ */\nCREATE FUNCTION f()"))
        #expect(statements[1].hasSuffix("$$ SELECT 1; $$"))
        #expect(statements[2] == "DO $body$ BEGIN PERFORM 1; RAISE NOTICE '$$;'; END $body$")
        #expect(statements[3] == "SELECT $1::int, x$y FROM t WHERE a = ';'")
    }

    @Test func anEscapeStringNeedsItsOwnWordE() {
        // `some'…'` is not an E-string: a backslash there is an ordinary character, and the quote ends the string.
        #expect(SQLScript.statements(#"SELECT E'\''; SELECT 1"#) == [#"SELECT E'\''"#, "SELECT 1"])
        #expect(SQLScript.statements(#"SELECT 'a\'; SELECT 1"#) == [#"SELECT 'a\'"#, "SELECT 1"])
    }

    @Test func aSQLStandardFunctionBodyIsOneStatement() {
        let script = """
            CREATE OR REPLACE FUNCTION f(a text) RETURNS TABLE (b text) LANGUAGE sql STABLE
            BEGIN ATOMIC
                SELECT CASE WHEN a = 'x;' THEN 'y' ELSE a END;
                SELECT (CASE a WHEN 'z' THEN 'w' END);
            END;
            create function g(a int) returns int language sql begin atomic select a + 1; end;
            CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (1); INSERT INTO t VALUES (2); END;
            CREATE FUNCTION h(a int) RETURNS int LANGUAGE sql RETURN CASE a WHEN 1 THEN 2 END;
            SELECT 1
            """
        let statements = SQLScript.statements(script)
        #expect(statements.count == 5, "\(statements)")
        #expect(statements.first?.hasSuffix("SELECT (CASE a WHEN 'z' THEN 'w' END);\nEND") == true)
        #expect(
            statements.dropFirst().first
                == "create function g(a int) returns int language sql begin atomic select a + 1; end")
        #expect(statements.dropFirst(2).first?.hasSuffix("INSERT INTO t VALUES (2); END") == true)
        #expect(
            statements.dropFirst(3).first
                == "CREATE FUNCTION h(a int) RETURNS int LANGUAGE sql RETURN CASE a WHEN 1 THEN 2 END")
        #expect(statements.last == "SELECT 1")
    }

    @Test func beginOutsideAFunctionBodyIsATransaction() {
        // A transaction's BEGIN, a DO block's body, a trigger that executes a function: ordinary statements.
        #expect(SQLScript.statements("BEGIN; SELECT 1; END; COMMIT") == ["BEGIN", "SELECT 1", "END", "COMMIT"])
        #expect(
            SQLScript.statements(
                "CREATE TRIGGER t AFTER INSERT ON x FOR EACH STATEMENT EXECUTE FUNCTION f(); SELECT CASE WHEN true THEN 1 END; SELECT 2"
            ) == [
                "CREATE TRIGGER t AFTER INSERT ON x FOR EACH STATEMENT EXECUTE FUNCTION f()",
                "SELECT CASE WHEN true THEN 1 END", "SELECT 2",
            ])
        #expect(
            SQLScript.statements("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ BEGIN; $$; SELECT 1").count == 2)
    }
}
