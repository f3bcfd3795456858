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

install() {
	command -v node >/dev/null && command -v npm >/dev/null || scripts/deps.sh >&2
	[ -f "$S3RVER" ] && return 0
	(cd tests/s3 && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}

start() {
	install
	local port=0
	[ -s "$dir/port" ] && port=$(cat "$dir/port")
	mkdir -p "$dir/data"
	: >"$dir/log"
	# Node 17+ has no DES without the legacy provider; s3rver's continuation tokens need it.
	NODE_OPTIONS=--openssl-legacy-provider setsid node "$S3RVER" -d "$dir/data" \
		-a 127.0.0.1 -p "$port" -s >>"$dir/log" 2>&1 </dev/null &
	echo $! >"$dir/pid"
	for _ in $(seq 1 200); do
		local got
		got=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$dir/log" | tail -1)
		if [ -n "$got" ]; then
			echo "$got" >"$dir/port"
			echo "http://127.0.0.1:$got"
			return 0
		fi
		if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	echo "s3rver did not start:" >&2
	cat "$dir/log" >&2
	stop
	return 1
}

stop() {
	[ -s "$dir/pid" ] || return 0
	local pid
	pid=$(cat "$dir/pid")
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -9 "$pid" 2>/dev/null || true
	rm -f "$dir/pid"
}

case $cmd in
start) start ;;
stop) stop ;;
*)
	echo "usage: scripts/s3.sh start|stop DIR" >&2
	exit 2
	;;
esac
