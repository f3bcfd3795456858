#!/usr/bin/env bash
# `make run`: depotd on the embedded default (SQLite + local files) with a development secret,
# and a ready-to-paste curl example. DEPOT_LISTEN and DEPOT_DATA are honoured.
set -euo pipefail
export DEPOT_LISTEN="${DEPOT_LISTEN:-127.0.0.1:8080}"
export DEPOT_DATA="${DEPOT_DATA:-./var}"
if [ -z "${DEPOT_JWT_SECRET:-}" ] && [ -z "${DEPOT_JWT_PUBLIC_KEY:-}" ]; then
	export DEPOT_JWT_SECRET="development-secret-change-me"
	echo "run: using the development secret DEPOT_JWT_SECRET=$DEPOT_JWT_SECRET (not for production)"
fi
base="http://${DEPOT_LISTEN}"
if [ -n "${DEPOT_JWT_SECRET:-}" ]; then
	token=$(build/depot token --account demo --user you --ttl 86400)
	cat <<MSG

Try it (token valid for 24 h, account "demo"):

  TOKEN=$token
  curl -s -X POST $base/v1/resources -H "Authorization: Bearer \$TOKEN" \\
       -H 'Content-Type: application/json' \\
       -d '{"name":"hello.txt","directory_path":"/docs","tags":["demo"],"content":"data:text/plain;base64,aGVsbG8gZGVwb3QK"}'
  curl -s "$base/v1/resources?directory_prefix=/docs&tags=demo" -H "Authorization: Bearer \$TOKEN"

MSG
fi
exec build/depotd
