# Sourced by the wrk benchmarks: start_ember_serve PORT [SERVE ARGS…] builds the release `ember` (or uses $EMBER_BINARY), creates an admin
# token on the database (EMBER_BENCH_DATABASE, default a throwaway SQLite file in $work) and starts `ember serve` on
# 127.0.0.1:PORT; it sets server (the pid), url and token. $work must be set; the caller's trap kills $server.
start_ember_serve() {
    local port=$1
    shift
    local ember=${EMBER_BINARY:-}
    if [ -z "$ember" ]; then
        swift build -c release --product ember >/dev/null 2>&1
        ember=.build/release/ember
    fi
    local database=${EMBER_BENCH_DATABASE:-sqlite:$work/ember.sqlite}
    token=$($ember admin token create --name "wrk-$RANDOM$RANDOM" --role admin --database "$database" 2>/dev/null)
    $ember serve --port "$port" --database "$database" --quiet "$@" >"$work/server.log" 2>&1 &
    server=$!
    url=http://127.0.0.1:$port
    for _ in $(seq 100); do curl -sf "$url/health" >/dev/null && break; sleep 0.1; done
}
