# shellcheck shell=bash
# Sourced by scripts/s3.sh and scripts/azurite.sh: a test server from npm, run in the background
# with its pid and log in a folder.
#   npm_daemon_install PKGDIR MAIN     npm ci in PKGDIR unless MAIN is there (node from deps.sh)
#   npm_daemon_wait DIR NAME SEDEXPR   waits for SEDEXPR to print the port from DIR/log; prints
#                                      http://127.0.0.1:PORT, or the log and fails
#   npm_daemon_stop DIR                stops the process of DIR/pid

npm_daemon_install() {
	command -v node >/dev/null && command -v npm >/dev/null || scripts/deps.sh >&2
	[ -f "$2" ] && return 0
	(cd "$1" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}

npm_daemon_wait() {
	local dir=$1 name=$2 expr=$3 got
	for _ in $(seq 1 300); do
		got=$(sed -n "$expr" "$dir/log" | tail -1)
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
	echo "$name did not start:" >&2
	cat "$dir/log" >&2
	npm_daemon_stop "$dir"
	return 1
}

npm_daemon_stop() {
	local dir=$1 pid
	[ -s "$dir/pid" ] || return 0
	pid=$(cat "$dir/pid")
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -9 "$pid" 2>/dev/null || true
	rm -f "$dir/pid"
}
