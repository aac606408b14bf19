-- Whether a time zone name is one PostgreSQL knows (README "Finance": --timezone is checked against the
-- server's own zone list, the one AT TIME ZONE uses). Parameters: $1 the name.
SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1) AS known
