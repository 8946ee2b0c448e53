#!/usr/bin/env bash
# What one call of each of the ten busiest RPCs costs, against a real
# townhalld and Redis, and the throughput of the hot writes against Ping;
# prints the markdown tables of docs/benchmarks.md ("Cost of one call").
#
#   bench/rpc_cost.sh                  # CALLS=200 calls per RPC
#   CALLS=500 DURATION=10s THREADS=32 bench/rpc_cost.sh
#   SERVER_FLAGS="--session_cache_size=0" bench/rpc_cost.sh
#   RESULTS=/tmp/rpc_cost.json bench/rpc_cost.sh   # keep the raw JSON
#
# Two townhalld on one private Redis (deploy/local/redis.conf, AOF off:
# round trips, not fsyncs, are measured): the first talks to Redis through
# bench/redis_count_proxy.py, which counts the commands and round trips it
# sends (blocking feed reads apart), has its access log on (calls to
# SchedulingService are counted from it) and serves the cost runs, CALLS
# calls of each RPC one after the other; Redis's INFO commandstats gives the
# commands run inside scripts too. The second talks to Redis directly and
# serves the throughput runs (THREADS synchronous callers, DURATION each).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
CALLS=${CALLS:-200}
DURATION=${DURATION:-5s}
THREADS=${THREADS:-16}
SERVER_FLAGS=${SERVER_FLAGS:-}
SKIP_BUILD=${SKIP_BUILD:-0}
RESULTS=${RESULTS:-}  # where to keep the raw JSON lines (default: not kept)

log() { echo "rpc_cost: $*" >&2; }
if [[ $SKIP_BUILD != 1 ]]; then
  cmake --build "$BUILD_DIR" -j 2 --target townhalld rpc-cost >"$BUILD_DIR/rpc-cost-build.log" 2>&1 ||
    { tail -30 "$BUILD_DIR/rpc-cost-build.log" >&2; exit 1; }
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/townhall-rpc-cost.XXXXXX")
PIDS=()
cleanup() {
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    # `wait` returns the server's 143 (SIGTERM): not the script's status.
    { kill -TERM "${PIDS[i]}" 2>/dev/null && wait "${PIDS[i]}" 2>/dev/null; } || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
REDIS_PORT=$(free_port); PROXY_PORT=$(free_port); CONTROL_PORT=$(free_port)
COST_PORT=$(free_port); THROUGHPUT_PORT=$(free_port)

echo "k1 $(openssl rand -hex 32)" > "$WORK/auth_keys"
openssl rand -hex 24 > "$WORK/bootstrap_credential"
chmod 600 "$WORK/auth_keys" "$WORK/bootstrap_credential"

redis-server "$ROOT/deploy/local/redis.conf" --port "$REDIS_PORT" --dir "$WORK" \
  --appendonly no --logfile "$WORK/redis.log" &
PIDS+=($!)
for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
/usr/bin/python3 "$ROOT/bench/redis_count_proxy.py" "$PROXY_PORT" "$REDIS_PORT" "$CONTROL_PORT" &
PIDS+=($!)
sleep 0.5

start_server() {  # PORT REDIS ACCESS_LOG LOGFILE
  # shellcheck disable=SC2086
  "$BUILD_DIR/services/townhalld/townhalld" --flagfile="$ROOT/deploy/local/townhalld.flags" \
    --listen="127.0.0.1:$1" --redis="127.0.0.1:$2" --access_log="$3" \
    --auth_key_file="$WORK/auth_keys" --bootstrap_credential_file="$WORK/bootstrap_credential" \
    --drain_delay=0s --shutdown_grace=2s $SERVER_FLAGS >"$4" 2>&1 &
  PIDS+=($!)
}
start_server "$COST_PORT" "$PROXY_PORT" true "$WORK/cost.log"
start_server "$THROUGHPUT_PORT" "$REDIS_PORT" false "$WORK/throughput.log"

log "redis :$REDIS_PORT (proxy :$PROXY_PORT), calls=$CALLS duration=$DURATION threads=$THREADS $SERVER_FLAGS"
"$BUILD_DIR/bench/rpc-cost" --server="127.0.0.1:$COST_PORT" \
  --throughput_server="127.0.0.1:$THROUGHPUT_PORT" \
  --bootstrap_credential_file="$WORK/bootstrap_credential" --calls="$CALLS" \
  --stats_port="$CONTROL_PORT" --access_log_file="$WORK/cost.log" \
  --duration="$DURATION" --threads="$THREADS" >"$WORK/results.json"
[[ -n $RESULTS ]] && cp "$WORK/results.json" "$RESULTS"

jq -rs '
  def r2: (. * 100 | round) / 100;
  def r3: (. * 1000 | round) / 1000;
  def delta(f): (.after | f) as $a | (.before | f) as $b
    | reduce ($a | keys[]) as $k (0; . + ($a[$k] - ($b[$k] // 0)));
  def per_name(f): (.after | f) as $a | (.before | f) as $b | .calls as $n
    | [$a | keys[] | select($a[.] > ($b[.] // 0))
       | "\(.) \(($a[.] - ($b[.] // 0)) / $n | r2)"] | join(", ");
  "| RPC | calls | Redis commands/call (sent) | round trips/call | commands/call incl. in scripts | SchedulingService calls/call | errors | sent, by command |",
  "|---|---:|---:|---:|---:|---:|---:|---|",
  (.[] | select(.kind == "cost") |
    "| \(.rpc) | \(.calls)" +
    " | \(delta(.commands) / .calls | r2)" +
    " | \((.after.round_trips - .before.round_trips) / .calls | r2)" +
    " | \(delta(.commandstats | with_entries(select(.key | test("^(xread|info|command|client|ping|hello)") | not))) / .calls | r2)" +
    " | \(.cross_service / .calls | r2) | \(.errors) | \(per_name(.commands)) |"),
  "",
  ([.[] | select(.kind == "throughput")] as $t
   | ($t | map(select(.rpc == "Ping") | .per_second) | add / length) as $ping
   | "| RPC | calls/s | ratio to Ping | errors |",
     "|---|---:|---:|---:|",
     ($t[] | "| \(.rpc) | \(.per_second | round) | \(.per_second / $ping | r3) | \(.errors) |"))
' "$WORK/results.json"
