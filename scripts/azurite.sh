#!/usr/bin/env bash
# The Azure Blob Storage emulator the external-source tests run against: Azurite's blob service,
# pinned in tests/azure/package.json (installed by `npm ci` into tests/azure/node_modules on
# first use; offline after that).
#   scripts/azurite.sh start DIR   starts it on 127.0.0.1 with its blobs in memory, and prints
#                                  its endpoint (http://127.0.0.1:PORT; the account is the first
#                                  path segment: devstoreaccount1 and its well-known key)
#   scripts/azurite.sh stop DIR    stops it; DIR stays
set -euo pipefail
cd "$(dirname "$0")/.."
cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
	echo "usage: scripts/azurite.sh start|stop DIR" >&2
	exit 2
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
AZURITE=tests/azure/node_modules/azurite/dist/src/blob/main.js

install() {
	command -v node >/dev/null && command -v npm >/dev/null || scripts/deps.sh >&2
	[ -f "$AZURITE" ] && return 0
	(cd tests/azure && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}

start() {
	install
	: >"$dir/log"
	# Run from DIR: Azurite writes its debug and extent files under the working folder.
	(cd "$dir" && exec setsid node "$OLDPWD/$AZURITE" --blobHost 127.0.0.1 --blobPort 0 \
		--inMemoryPersistence --extentMemoryLimit 256 --skipApiVersionCheck --loose \
		--disableTelemetry --silent >>"$dir/log" 2>&1 </dev/null) &
	echo $! >"$dir/pid"
	for _ in $(seq 1 300); do
		local got
		got=$(sed -n 's/.*listens on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$dir/log" | tail -1)
		if [ -n "$got" ]; then
			echo "http://127.0.0.1:$got"
			return 0
		fi
		if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	echo "azurite did not start:" >&2
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
	echo "usage: scripts/azurite.sh start|stop DIR" >&2
	exit 2
	;;
esac
