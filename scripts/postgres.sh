# Throwaway PostgreSQL for the test suite; sourced by scripts/test.
# start_postgres: installs Debian's postgresql if missing, initdb's a cluster in a temp dir, starts it on a free
# 127.0.0.1 port and exports EMBER_TEST_POSTGRES_URL. stop_postgres stops it and removes the folder.

pg_bindir() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
    local bin
    bin=$(pg_bindir)
    if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
        echo "==> installing PostgreSQL (apt-get install postgresql)"
        if [ "$(id -u)" != 0 ]; then echo "PostgreSQL is missing and installing it needs root" >&2; return 1; fi
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        bin=$(pg_bindir)
        [ -n "$bin" ] || { echo "PostgreSQL did not install" >&2; return 1; }
    fi
    PG_DIR=$(mktemp -d /tmp/ember-pg.XXXXXX)
    [ "$(id -u)" = 0 ] && chown postgres "$PG_DIR"
    local port
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_postgres "$bin/initdb" -D "$PG_DIR/data" -U ember -A trust -E UTF8 >"$PG_DIR/initdb.log" 2>&1 \
        || { cat "$PG_DIR/initdb.log" >&2; return 1; }
    as_postgres "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
        -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off" \
        start >/dev/null || { cat "$PG_DIR/server.log" >&2; return 1; }
    PG_BIN=$bin
    export EMBER_TEST_POSTGRES_URL="postgres://ember@127.0.0.1:$port/postgres"
    echo "==> PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

stop_postgres() {
    if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
        as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    [ -n "${PG_DIR:-}" ] && rm -rf "$PG_DIR"
}
