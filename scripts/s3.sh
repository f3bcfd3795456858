#!/usr/bin/env bash
# The S3-compatible server the black-box suite runs against: s3rver, pinned in
# tests/s3/package.json (installed by `npm ci` into tests/s3/node_modules on first use).
#   scripts/s3.sh start DIR   starts it on 127.0.0.1, objects in DIR/data, and prints its
#                             endpoint; the port is kept in DIR/port, so a later start on the
#                             same DIR comes back on the same port with the same objects
#   scripts/s3.sh stop DIR    stops it; DIR stays
# Credentials: S3RVER / S3RVER (s3rver's account). s3rver checks the access key but not V4
# signatures, ignores conditional writes and cannot abort multipart uploads.
set -euo pipefail
cd "$(dirname "$0")/.."
cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
	echo "usage: scripts/s3.sh start|stop DIR" >&2
	exit 2
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
S3RVER=tests/s3/node_modules/s3rver/bin/s3rver.js

. scripts/npm-daemon.sh

start() {
	npm_daemon_install tests/s3 "$S3RVER"
	local port=0
	[ -s "$dir/port" ] && port=$(cat "$dir/port")
	mkdir -p "$dir/data"
	: >"$dir/log"
	# Node 17+ has no DES without the legacy provider; s3rver's continuation tokens need it.
	NODE_OPTIONS=--openssl-legacy-provider setsid node "$S3RVER" -d "$dir/data" \
		-a 127.0.0.1 -p "$port" -s >>"$dir/log" 2>&1 </dev/null &
	echo $! >"$dir/pid"
	npm_daemon_wait "$dir" s3rver 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p'
}

stop() {
	npm_daemon_stop "$dir"
}

case $cmd in
start) start ;;
stop) stop ;;
*)
	echo "usage: scripts/s3.sh start|stop DIR" >&2
	exit 2
	;;
esac
