#!/usr/bin/env bash
# Prints a query of sql/queries/ with its parameters written in as SQL literals, for psql and EXPLAIN.
# Usage: scripts/bench/bind_query.sh FILE LITERAL1 LITERAL2 ...   ($1 becomes LITERAL1, and so on)
# The job's parameters, as the benchmark runs it (see AttributeQuery.swift and RowAccounting.swift):
#   participant_attributes.sql  "'2025-01-01T00:00:00Z'::timestamptz" "'USD'::text" 2 1 0 "NULL::text"
#   rejected_rows.sql, row_accounting.sql  "'2025-01-01T00:00:00Z'::timestamptz" "'USD'::text" "NULL::text"
set -euo pipefail
file=$1
shift
script=()
index=$#
# Highest number first, so $1 never eats the start of $10.
for ((index = $#; index >= 1; index--)); do
  literal=${!index}
  [[ $literal =~ ^[A-Za-z0-9_:.\'+-]+$ ]] || { echo "bind_query.sh: unexpected literal $literal" >&2; exit 64; }
  script+=(-e "s/\\\$$index([^0-9]|\$)/$literal\\1/g")
done
if [ ${#script[@]} -eq 0 ]; then cat "$file"; else sed -E "${script[@]}" "$file"; fi
