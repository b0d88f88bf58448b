#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster on loopback for the test suite and prints its admin URL.
# Usage: eval "$(scripts/pg-test-cluster.sh start)"; ...; scripts/pg-test-cluster.sh stop
set -euo pipefail
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
DIR=${VEIL_PG_DIR:-/tmp/veil-pg}
PORT=${VEIL_PG_PORT:-55432}
case "${1:-start}" in
  start)
    if [ ! -f "$DIR/data/PG_VERSION" ]; then
      mkdir -p "$DIR"
      chmod 755 "$DIR"
      chown postgres:postgres "$DIR"
      su postgres -c "$PGBIN/initdb -D $DIR/data -A trust -U postgres --no-sync" > /dev/null
    fi
    su postgres -c "$PGBIN/pg_ctl -D $DIR/data -l $DIR/log -o '-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300' -w start" > /dev/null
    echo "export VEIL_TEST_PG_URL=postgres://postgres@127.0.0.1:$PORT/postgres"
    ;;
  stop)
    su postgres -c "$PGBIN/pg_ctl -D $DIR/data -m fast -w stop" > /dev/null || true
    ;;
esac
