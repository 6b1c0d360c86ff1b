#!/usr/bin/env bash
# Starts a throwaway local PostgreSQL (from the Debian package scripts/setup.sh installs) for the
# companion's PostgreSQL tests, and prints how to use and stop it.
#
#   eval "$(scripts/pg.sh start)"   # exports DATABASE_URL and B24PAY_TEST_DATABASE_URL
#   scripts/pg.sh stop              # stops it and deletes its data
#   scripts/pg.sh status
#
# Data lives under /tmp (B24PAY_PG_DIR, default /tmp/b24pay-pg); it listens on a unix socket in
# that directory and on 127.0.0.1 at a free port (B24PAY_PG_PORT to choose one). As root, the
# server runs as the `postgres` user, because PostgreSQL refuses to run as root.
set -euo pipefail

dir="${B24PAY_PG_DIR:-/tmp/b24pay-pg}"
data="$dir/data"
log="$dir/postgres.log"

bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "pg.sh: PostgreSQL binaries not found under /usr/lib/postgresql/*/bin; run scripts/setup.sh" >&2
  exit 1
fi

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 - <<'EOF' 2>/dev/null || echo 55432
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

url_for() {
  echo "postgres://postgres@127.0.0.1:$1/postgres?sslmode=disable"
}

running_port() {
  [ -f "$dir/port" ] && as_pg "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1 && cat "$dir/port"
}

start() {
  if port="$(running_port)"; then
    url="$(url_for "$port")"
  else
    rm -rf "$dir"
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
    as_pg "$bindir/initdb" -D "$data" -U postgres --auth=trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 || {
      cat "$dir/initdb.log" >&2
      exit 1
    }
    port="${B24PAY_PG_PORT:-$(free_port)}"
    echo "$port" >"$dir/port"
    # Throwaway: durability off for speed; enough connections for parallel tests.
    as_pg "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 30 start -o \
      "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
      >/dev/null || {
      cat "$log" >&2
      exit 1
    }
    url="$(url_for "$port")"
  fi
  echo "export DATABASE_URL='$url'"
  echo "export B24PAY_TEST_DATABASE_URL='$url'"
  echo "# stop with: $0 stop" >&2
}

stop() {
  if [ -d "$data" ]; then
    as_pg "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status)
    if port="$(running_port)"; then echo "running: $(url_for "$port")"; else echo "not running"; exit 1; fi
    ;;
  *)
    echo "usage: $0 [start|stop|status]" >&2
    exit 2
    ;;
esac
