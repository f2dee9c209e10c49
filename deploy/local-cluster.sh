#!/usr/bin/env bash
# A local Ember cluster on loopback: a throwaway PostgreSQL, two `ember serve` instances and nginx in front.
#   deploy/local-cluster.sh                 start, print the URL and an admin token, stop everything on Ctrl-C
#   deploy/local-cluster.sh start DIR       start in the background; DIR/cluster.env holds URL, TOKEN, ports, pids
#   deploy/local-cluster.sh start DIR --tls the same with nginx terminating HTTPS (deploy/nginx-tls.conf) on a
#                                           certificate made for 127.0.0.1; DIR/cluster.env names it (CACERT)
#   deploy/local-cluster.sh stop DIR        stop what `start DIR` started and remove DIR
# Installs nginx and PostgreSQL with apt-get when missing. Uses the built `ember` (EMBER_BINARY, else .build/debug/ember).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/scripts/postgres.sh"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

wait_http() {
    for _ in $(seq 150); do curl -sf "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "no answer from $*" >&2
    return 1
}

start_cluster() {
    local dir=$1 tls=${2:-}
    mkdir -p "$dir"
    local ember=${EMBER_BINARY:-$root/.build/debug/ember}
    [ -x "$ember" ] || { echo "no ember binary at $ember: run swift build first" >&2; return 1; }
    if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
        echo "==> installing nginx (apt-get install nginx)" >&2
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
    fi
    local nginx
    nginx=$(command -v nginx || echo /usr/sbin/nginx)

    start_postgres </dev/null >/dev/null 2>"$dir/postgres-start.log"
    local database="${EMBER_TEST_POSTGRES_URL%/*}/postgres?pool=20"
    local token
    token="cluster-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
    # Every instance on one database must seal registration keys with the same key-encryption key.
    local kek
    kek=$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')
    export EMBER_KEY_ENCRYPTION_KEY=$kek
    "$ember" migrate --database "$database" >/dev/null
    local port1 port2 listen
    port1=$(free_port); port2=$(free_port); listen=$(free_port)
    # Every instance signs device certificates with the same device CA.
    local options=(--database "$database" --trusted-proxies 127.0.0.1 --device-ca-file "$dir/device-ca.private.pem" --quiet)
    local template=nginx.conf scheme=http cacert=
    if [ "$tls" = --tls ]; then
        template=nginx-tls.conf scheme=https cacert=$dir/tls.pem
        options+=(--secure-cookies)
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
            -addext subjectAltName=IP:127.0.0.1 -keyout "$dir/tls.key" -out "$dir/tls.pem" 2>/dev/null
    fi
    EMBER_BOOTSTRAP_TOKEN=$token "$ember" serve --port "$port1" "${options[@]}" </dev/null >"$dir/ember1.log" 2>&1 &
    local pid1=$!
    wait_http "http://127.0.0.1:$port1/ready"
    "$ember" serve --port "$port2" "${options[@]}" </dev/null >"$dir/ember2.log" 2>&1 &
    local pid2=$!
    wait_http "http://127.0.0.1:$port2/ready"
    sed -e "s|@DIR@|$dir|g" -e "s|@PORT1@|$port1|g" -e "s|@PORT2@|$port2|g" -e "s|@LISTEN@|$listen|g" \
        -e "s|@CERT@|$dir/tls.pem|g" -e "s|@KEY@|$dir/tls.key|g" "$root/deploy/$template" >"$dir/nginx.conf"
    "$nginx" -c "$dir/nginx.conf" -p "$dir" </dev/null >"$dir/nginx.log" 2>&1 &
    local nginx_pid=$!
    if [ -n "$cacert" ]; then wait_http --cacert "$cacert" "https://127.0.0.1:$listen/health"; else wait_http "http://127.0.0.1:$listen/health"; fi
    cat >"$dir/cluster.env" <<ENV
URL=$scheme://127.0.0.1:$listen
CACERT=$cacert
TOKEN=$token
PORT1=$port1
PORT2=$port2
PID1=$pid1
PID2=$pid2
NGINX_PID=$nginx_pid
PG_DIR=$PG_DIR
PG_BIN=$PG_BIN
DATABASE=$database
ENV
}

stop_cluster() {
    local dir=$1
    [ -f "$dir/cluster.env" ] || return 0
    # shellcheck disable=SC1091
    source "$dir/cluster.env"
    kill "$NGINX_PID" "$PID1" "$PID2" 2>/dev/null || true
    sleep 0.5
    kill -9 "$NGINX_PID" "$PID1" "$PID2" 2>/dev/null || true
    # Anything of this cluster that outlived its recorded pid (nginx workers, a restarted instance).
    pkill -9 -f -- "-c $dir/nginx.conf" 2>/dev/null || true
    pkill -9 -f -- "serve --port ($PORT1|$PORT2) " 2>/dev/null || true
    stop_postgres
    rm -rf "$dir"
}

case "${1:-}" in
    start) start_cluster "$2" "${3:-}" ;;
    stop) stop_cluster "$2" ;;
    "")
        dir=$(mktemp -d /tmp/ember-cluster.XXXXXX)
        trap 'stop_cluster "$dir"' EXIT INT TERM
        start_cluster "$dir"
        source "$dir/cluster.env"
        echo "Ember cluster: $URL (instances on :$PORT1 and :$PORT2, PostgreSQL $DATABASE)"
        echo "admin token: $TOKEN"
        echo "Ctrl-C stops everything."
        wait "$NGINX_PID"
        ;;
    *) echo "usage: $0 [start DIR | stop DIR]" >&2; exit 2 ;;
esac
