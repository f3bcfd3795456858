#!/usr/bin/env bash
# Runs a test command against the chosen stores:
#   scripts/with-stores.sh local COMMAND...          SQLite + local files (nothing to start)
#   scripts/with-stores.sh postgres+s3 COMMAND...    a throwaway PostgreSQL (scripts/pg.sh) and
#                                                    an s3rver (scripts/s3.sh), stopped after
# The test helpers (tests/http/depot_helpers.py) read DEPOT_TEST_PG_ADMIN and
# DEPOT_TEST_S3_ENDPOINT and give each depotd a database and a bucket of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
stores=${1:-}
shift || true
case "$stores" in
local) exec "$@" ;;
postgres+s3) ;;
*)
	echo "usage: scripts/with-stores.sh local|postgres+s3 COMMAND..." >&2
	exit 2
	;;
esac
pgdir=$(mktemp -d /tmp/depot-pg-XXXXXX)
s3dir=$(mktemp -d /tmp/depot-s3-XXXXXX)
cleanup() {
	scripts/s3.sh stop "$s3dir" >/dev/null 2>&1 || true
	scripts/pg.sh stop "$pgdir" >/dev/null 2>&1 || true
	rm -rf "$s3dir"
}
trap cleanup EXIT
scripts/pg.sh start "$pgdir" >&2
endpoint=$(scripts/s3.sh start "$s3dir")
DEPOT_TEST_PG_ADMIN=$(scripts/pg.sh url "$pgdir") DEPOT_TEST_PG_DIR=$pgdir \
	DEPOT_TEST_S3_ENDPOINT=$endpoint "$@"
