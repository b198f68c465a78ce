#!/usr/bin/env bash
# Run a command with a throw-away PostgreSQL server on 127.0.0.1:54329 and
# FAZHI_TEST_PG pointing at it. Installs Debian's postgresql when missing and we
# are root; without it the command still runs and the PostgreSQL tests skip
# (they fail instead when CI=true, so CI can never pass without them).
set -uo pipefail
PORT=${FAZHI_PG_PORT:-54329}
find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
PGBIN=$(find_bin)
if [ -z "$PGBIN" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing postgresql (Debian package) for the database tests…" >&2
  export DEBIAN_FRONTEND=noninteractive
  (apt-get update -qq && apt-get install -y -qq postgresql >/dev/null) >&2 || true
  PGBIN=$(find_bin)
fi
if [ -n "$PGBIN" ] && [ -z "${FAZHI_TEST_PG:-}" ]; then
  PGDIR=$(mktemp -d /tmp/fazhi-pg.XXXXXX)
  RUN=()
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$PGDIR" 2>/dev/null && RUN=(runuser -u postgres --)
  fi
  if "${RUN[@]}" "$PGBIN/initdb" -D "$PGDIR/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$PGDIR/initdb.log" 2>&1 \
     && "${RUN[@]}" "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 30 \
          -o "-p $PORT -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null; then
    trap '"${RUN[@]}" "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate stop >/dev/null 2>&1; rm -rf "$PGDIR"' EXIT
    "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres fazhi_test
    export FAZHI_TEST_PG="postgresql://postgres@127.0.0.1:$PORT/fazhi_test"
    echo "PostgreSQL test server: $FAZHI_TEST_PG" >&2
  else
    echo "could not start PostgreSQL (see $PGDIR); its tests will not run" >&2
  fi
fi
"$@"
