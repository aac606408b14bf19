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
}
