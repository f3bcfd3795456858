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

. scripts/npm-daemon.sh

start() {
	npm_daemon_install tests/azure "$AZURITE"
	: >"$dir/log"
	# Run from DIR: Azurite writes its debug and extent files under the working folder.
	(cd "$dir" && exec setsid node "$OLDPWD/$AZURITE" --blobHost 127.0.0.1 --blobPort 0 \
		--inMemoryPersistence --extentMemoryLimit 256 --skipApiVersionCheck --loose \
		--disableTelemetry --silent >>"$dir/log" 2>&1 </dev/null) &
	echo $! >"$dir/pid"
	npm_daemon_wait "$dir" azurite 's/.*listens on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p'
}

stop() {
	npm_daemon_stop "$dir"
}

case $cmd in
start) start ;;
stop) stop ;;
*)
	echo "usage: scripts/azurite.sh start|stop DIR" >&2
	exit 2
	;;
esac
