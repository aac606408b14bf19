#!/usr/bin/env bash
# Prints a job query of sql/queries/ with its parameters written in as literals, for psql and EXPLAIN:
# $1 as-of, $2 currency, $3 minor units, $4/$5 the whole participant set (shard 1 of 1), $6 and later NULL.
# Usage: scripts/bench/bind_query.sh FILE AS_OF CURRENCY MINOR_UNITS
set -euo pipefail
file=$1 as_of=$2 currency=$3 minor=$4
[[ $as_of =~ ^[0-9TZ:.+-]+$ && $currency =~ ^[A-Z]{3}$ && $minor =~ ^[0-9]$ ]] \
  || { echo "bind_query.sh: unexpected parameter values" >&2; exit 64; }
sed -E -e "s/\\\$1([^0-9]|$)/'$as_of'::timestamptz\\1/g" -e "s/\\\$2([^0-9]|$)/'$currency'::text\\1/g" \
  -e "s/\\\$3([^0-9]|$)/$minor\\1/g" -e "s/\\\$4([^0-9]|$)/1\\1/g" -e "s/\\\$5([^0-9]|$)/0\\1/g" \
  -e "s/\\\$[6-9]([^0-9]|$)/NULL::text\\1/g" "$file"
