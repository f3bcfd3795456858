#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the tests, in one folder:
#   scripts/pg.sh start DIR    create the cluster when DIR has none, then start it
#   scripts/pg.sh url DIR      the URL of its admin database (postgres://depot:PASSWORD@...)
#   scripts/pg.sh halt DIR     stop it, keeping the data (start brings it back, same port)
#   scripts/pg.sh restart DIR  stop and start again
#   scripts/pg.sh stop DIR     stop it and remove DIR
# Debian's binaries, run as an unprivileged user (initdb refuses root): `depot-test`, created
# when missing. It listens on 127.0.0.1 only, on a free port, with a random password; fsync and
# synchronous_commit stay on, as in production.
set -euo pipefail
BIN=/usr/lib/postgresql/15/bin
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|url|halt|restart|stop DIR" >&2; exit 2; }

as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u depot-test -- "$@"
	else
		"$@"
	fi
}

ensure_user() {
	[ "$(id -u)" -eq 0 ] || return 0
	id -u depot-test >/dev/null 2>&1 ||
		useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
			depot-test
}

free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pg_start() {
	as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
}

init_cluster() {
	ensure_user
	mkdir -p "$dir"
	[ "$(id -u)" -eq 0 ] && chown depot-test "$dir"
	chmod 700 "$dir"
	local pw
	pw=$(od -An -N18 -tx1 /dev/urandom | tr -d ' \n')
	printf '%s\n' "$pw" >"$dir/pwfile"
	[ "$(id -u)" -eq 0 ] && chown depot-test "$dir/pwfile"
	as_owner "$BIN/initdb" -D "$dir/data" -U depot --pwfile="$dir/pwfile" \
		--auth=scram-sha-256 --encoding=UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; exit 1; }
	cat >>"$dir/data/postgresql.conf" <<-EOF
		listen_addresses = '127.0.0.1'
		unix_socket_directories = '$dir'
		max_connections = 300
		shared_buffers = 32MB
		fsync = on
		synchronous_commit = on
		log_min_messages = warning
	EOF
}

case "$cmd" in
start)
	[ -f "$dir/data/PG_VERSION" ] || init_cluster
	if [ -f "$dir/port" ]; then
		pg_start
	else
		# A free port can be taken between the probe and the bind: try a few.
		for _ in 1 2 3 4 5; do
			port=$(free_port)
			sed -i '/^port = /d' "$dir/data/postgresql.conf"
			echo "port = $port" >>"$dir/data/postgresql.conf"
			if pg_start; then
				echo "$port" >"$dir/port"
				break
			fi
		done
		[ -f "$dir/port" ] || { cat "$dir/server.log" >&2; exit 1; }
	fi
	;;
url)
	echo "postgres://depot:$(cat "$dir/pwfile")@127.0.0.1:$(cat "$dir/port")/postgres"
	;;
halt)
	as_owner "$BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
	;;
restart)
	as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w -t 60 restart \
		>/dev/null
	;;
stop)
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_owner "$BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null || true
	fi
	rm -rf "$dir"
	;;
*)
	echo "usage: $0 start|url|halt|restart|stop DIR" >&2
	exit 2
	;;
esac
