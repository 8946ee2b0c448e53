#!/usr/bin/env bash
# Benchmarks townhalld against its own no-op baseline (DiagnosticsService/Ping)
# in one run, on a private Redis configured as deployed (deploy/local/redis.conf:
# appendonly yes, appendfsync always), and prints a markdown table for
# docs/benchmarks.md.
#
#   bench/run_bench.sh                       # defaults below
#   DURATION=10s CONCURRENCY=64 CHANNELS=4 bench/run_bench.sh
#   PIN=split bench/run_bench.sh             # server+redis on CPU 0, load on CPU 1
#   SERVER_FLAGS="--redis_pool_size=16" bench/run_bench.sh
#   APPENDONLY=no bench/run_bench.sh         # Redis without AOF (comparison only)
#   RPCS="ping get_session ping" ROUNDS=5 bench/run_bench.sh
#   REDIS_UNIX=1 bench/run_bench.sh         # townhalld talks to Redis over a unix socket
#   SERVER_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 bench/run_bench.sh
#   WATCHERS="1000 5000" WATCH_VOTE_CONCURRENCY=16 bench/run_bench.sh
#                                            # (default "1000 5000 10000 20000")
#   WATCHERS= bench/run_bench.sh             # skip the WatchQueue benchmark
#   REDIS_MODE=cluster bench/run_bench.sh    # a local 3+3 Redis Cluster instead
#   VOTE_SESSIONS=30 PARTICIPANTS=300 bench/run_bench.sh
#                                            # votes spread over 30 sessions
#   RESULTS_JSON=/tmp/r.jsonl bench/run_bench.sh  # also the raw results, a line per run
#   POLLS=1 bench/run_bench.sh               # polls (issue 20): RPCS="ping ballot ballot_receipt
#                                            # ballot_ping ping", then WatchPolls
#                                            # delivery to POLL_WATCHERS="1000 5000"
#                                            # (WATCHERS and BARE_COMPARE off unless set)
#   METRICS_COMPARE=1 RPCS="ping upvote" WATCHERS= bench/run_bench.sh
#                                            # the cost of --metrics_listen: each RPC
#                                            # runs against a townhalld without metrics
#                                            # and one with them (same Redis, same
#                                            # data), alternately; table of on/off
#   TOWNHALLD=/tmp/old/build/services/townhalld/townhalld bench/run_bench.sh
#                                            # another build's townhalld (before/after)
#   BARE_COMPARE=0 bench/run_bench.sh       # skip Ping against the bare gRPC server
#   BARE_AUTH_HEADER=0 bench/run_bench.sh   # the bare server's requests without the token
#   H2LOAD_CLIENTS=16 H2LOAD_STREAMS=32 bench/run_bench.sh
#                                            # h2load's connections and streams for it
#   WATCH_DURING='sleep 20; perf record -g -o /tmp/w$W.perf -p $SERVER_PID -- sleep 8' \
#     bench/run_bench.sh                     # a command run beside each watch run
#                                            # (sees W and SERVER_PID; killed at its end)
#   DURING='perf record -g -o /tmp/$RPC.perf -p $SERVER_PID -- sleep 5' bench/run_bench.sh
#                                            # a command run while each RPC is measured
#                                            # (sees RPC, SERVER_PID, REDIS_PID, REDIS_PORT;
#                                            # on a cluster, those of its first master)
#
# Polls: when RPCS names ballot or ballot_ping, or POLL_WATCHERS is not
# empty, a fourth tenant, bench-poll, gets a session with POLL_VOTERS
# registered participants and one OPEN single-choice poll with allow_change
# (townhall-bench --setup --poll_voters). ballot casts in it as those
# participants (their own join tokens; every call after a voter's first a
# real change; 30 ballots a minute per voter is the server's limit, so
# POLL_VOTERS must exceed a run's ballots / 30); ballot_receipt the same
# ballots with BALLOT_REPLY_RECEIPT (no poll in the reply); ballot_ping is Ping with
# their tokens. For each W in POLL_WATCHERS a fresh townhalld gets W
# WatchPolls streams (townhall-bench --watch_polls: POLL_RUNS runs of
# POLL_RUN_SIZE first ballots cast at once, POLL_INTERVAL apart), timed
# from each CastBallot reply to each watcher's first "poll.ballot" change
# whose ballot_count covers it.
#
# Order: ping, upvote, upvote_unchanged, get_session, create_session,
# list_sessions, ping, repeated ROUNDS times. upvote casts a NEW vote per
# call ((participant, question) pairs never used before in this run, from
# QUESTIONS questions x PARTICIPANTS participants with their own join
# tokens; votes_per_minute is raised to 10000 so the rate limit never
# binds); upvote_unchanged repeats pairs already voted (changed=false).
# Then, for each W in WATCHERS, a FRESH townhalld (same flags, same Redis)
# gets W WatchQueue streams: server VmRSS before/after, and the delivery
# latency of DELIVERIES approved questions to every watcher, then again
# under a background vote load (WATCH_VOTE_CONCURRENCY outstanding votes).
# Each ratio is against the mean of the two Ping runs of the
# same round (the two also show drift); the table shows medians over rounds.
# Server and Redis CPU per RPC come from /proc/<pid>/stat, server context
# switches from /proc/<pid>/task/*/status, sampled over the measured window
# by this script's clock (approximate).
#
# REDIS_MODE=cluster: tests/start_cluster.sh starts 3 masters + 3 replicas
# on free loopback ports, each set to deploy/local/redis.conf's persistence
# and memory settings (CONFIG SET: appendonly APPENDONLY, appendfsync
# always, noeviction, hash-max-listpack-entries 128), and townhalld gets
# --redis_cluster. Redis CPU is the sum over the 6 nodes. Each RPC's
# measured window also reads INFO commandstats of every master (CONFIG
# RESETSTAT at its start): the table after the main one shows each
# master's share of the calls, and where the vote sessions' slots are.
# redis-benchmark runs with --cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONCURRENCY=${CONCURRENCY:-64}
CHANNELS=${CHANNELS:-4}
PIN=${PIN:-none}                 # none | split
SERVER_FLAGS=${SERVER_FLAGS:-}
APPENDONLY=${APPENDONLY:-yes}
PREFILL=${PREFILL:-200}
POLLS=${POLLS:-0}                # 1: the polls preset (see top)
if [[ $POLLS == 1 ]]; then
  RPCS=${RPCS:-ping ballot ballot_receipt ballot_ping ping}
  WATCHERS=${WATCHERS-}
  BARE_COMPARE=${BARE_COMPARE:-0}
  POLL_WATCHERS=${POLL_WATCHERS-1000 5000}
fi
RPCS=${RPCS:-ping upvote upvote_unchanged get_session create_session list_sessions ping}
QUESTIONS=${QUESTIONS:-500}
PARTICIPANTS=${PARTICIPANTS:-4000}
WATCHERS=${WATCHERS-1000 5000 10000 20000}
POLL_WATCHERS=${POLL_WATCHERS-}
POLL_VOTERS=${POLL_VOTERS:-5000}
POLL_RUNS=${POLL_RUNS:-30}
POLL_RUN_SIZE=${POLL_RUN_SIZE:-10}
POLL_INTERVAL=${POLL_INTERVAL:-300ms}
WATCH_CHANNELS=${WATCH_CHANNELS:-16}
WATCH_DURING=${WATCH_DURING:-}
WATCH_OPENING=${WATCH_OPENING:-0}  # streams opened before their snapshots arrive (0: all at once)
DELIVERIES=${DELIVERIES:-50}
WATCH_VOTE_CONCURRENCY=${WATCH_VOTE_CONCURRENCY:-16}
ROUNDS=${ROUNDS:-3}
REDIS_UNIX=${REDIS_UNIX:-0}      # 1: townhalld connects over a unix socket
SERVER_PRELOAD=${SERVER_PRELOAD:-}  # e.g. a malloc to LD_PRELOAD into townhalld
SKIP_BUILD=${SKIP_BUILD:-0}
DURING=${DURING:-}
REDIS_BENCHMARK=${REDIS_BENCHMARK:-1}
REDIS_MODE=${REDIS_MODE:-standalone}  # standalone | cluster
VOTE_SESSIONS=${VOTE_SESSIONS:-1}
RESULTS_JSON=${RESULTS_JSON:-}
METRICS_COMPARE=${METRICS_COMPARE:-0}  # 1: every RPC also against a townhalld with metrics
BARE_COMPARE=${BARE_COMPARE:-1}  # 1: Ping against a bare gRPC server with h2load (issue 19)
BARE_AUTH_HEADER=${BARE_AUTH_HEADER:-1}  # 1: the bare server gets the same token header
H2LOAD_CLIENTS=${H2LOAD_CLIENTS:-16}
H2LOAD_STREAMS=${H2LOAD_STREAMS:-32}

log() { echo "run_bench: $*" >&2; }
for d in "$DURATION" "$WARMUP"; do
  [[ $d =~ ^[0-9]+s$ ]] || { log "DURATION and WARMUP must be whole seconds such as 10s, got $d"; exit 2; }
done

# ---- build (others may build in the same tree: retry a few times)
if [[ $SKIP_BUILD != 1 ]]; then
  [[ -f $BUILD_DIR/CMakeCache.txt ]] || cmake -S "$ROOT" -B "$BUILD_DIR" >/dev/null
  for attempt in 1 2 3; do
    if cmake --build "$BUILD_DIR" -j 2 --target townhalld townhall-bench metrics-cost-bench bare-grpc-server >"$BUILD_DIR/bench-build.log" 2>&1; then
      break
    fi
    [[ $attempt == 3 ]] && { tail -30 "$BUILD_DIR/bench-build.log" >&2; exit 1; }
    log "build failed (attempt $attempt), retrying in 10s"
    sleep 10
  done
fi
# TOWNHALLD: another build's server (an earlier commit, for before/after)
# measured with this tree's load generator and baselines.
TOWNHALLD=${TOWNHALLD:-$BUILD_DIR/services/townhalld/townhalld}
BENCH=$BUILD_DIR/bench/townhall-bench

# ---- private state; everything started here is stopped on exit
WORK=$(mktemp -d "${TMPDIR:-/tmp}/townhall-bench.XXXXXX")
REDIS_PID=""
CLUSTER_DIR=""
SERVER_PID=""
WATCH_SERVER_PID=""
cleanup() {
  [[ -n $WATCH_SERVER_PID ]] && kill -TERM "$WATCH_SERVER_PID" 2>/dev/null && wait "$WATCH_SERVER_PID" 2>/dev/null
  [[ -n $SERVER_PID ]] && kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  [[ -n ${METRICS_SERVER_PID:-} ]] && kill -TERM "$METRICS_SERVER_PID" 2>/dev/null && wait "$METRICS_SERVER_PID" 2>/dev/null
  [[ -n ${BARE_PID:-} ]] && kill -TERM "$BARE_PID" 2>/dev/null && wait "$BARE_PID" 2>/dev/null
  [[ -n $REDIS_PID ]] && kill -TERM "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null
  if [[ -n $CLUSTER_DIR ]]; then
    # Daemonized, not our children: wait until they are gone (they write
    # into $WORK until then).
    local pids=() p
    mapfile -t pids < <(cat "$CLUSTER_DIR"/*/redis.pid 2>/dev/null)
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do
      for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    done
  fi
  rm -rf "$WORK"
}
on_error() {
  log "failed at line $1 (exit $2)"
  if [[ -n $SERVER_PID ]] && ! kill -0 "$SERVER_PID" 2>/dev/null; then
    local rc=0
    wait "$SERVER_PID" || rc=$?
    log "townhalld is gone (exit status $rc)"
  fi
  for f in townhalld.log redis.log cluster/create.log; do
    [[ -f $WORK/$f ]] && { log "--- tail of $f"; tail -20 "$WORK/$f" >&2; }
  done
}
trap 'on_error $LINENO $?' ERR
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
REDIS_PORT=$(free_port)
GRPC_PORT=$(free_port)
while [[ $GRPC_PORT == "$REDIS_PORT" ]]; do GRPC_PORT=$(free_port); done

# Command prefixes (taskset execs the command: $! stays the real pid).
case $PIN in
  none) PIN_SERVER=(); PIN_CLIENT=() ;;
  split) PIN_SERVER=(taskset -c 0); PIN_CLIENT=(taskset -c 1) ;;
  *) log "PIN must be none or split"; exit 2 ;;
esac

mkdir -p "$WORK/redis"
echo "k1 $(openssl rand -hex 32)" > "$WORK/auth_keys"
openssl rand -hex 24 > "$WORK/bootstrap_credential"
chmod 600 "$WORK/auth_keys" "$WORK/bootstrap_credential"

case $REDIS_MODE in
  standalone)
    "${PIN_SERVER[@]}" redis-server "$ROOT/deploy/local/redis.conf" --port "$REDIS_PORT" \
      --dir "$WORK/redis" --appendonly "$APPENDONLY" --logfile "$WORK/redis.log" \
      --unixsocket "$WORK/redis.sock" --unixsocketperm 700 &
    REDIS_PID=$!
    REDIS_PIDS=("$REDIS_PID")
    DURING_REDIS_PID=$REDIS_PID
    for _ in $(seq 50); do
      redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
      sleep 0.1
    done
    REDIS_ADDRESS=127.0.0.1:$REDIS_PORT
    [[ $REDIS_UNIX == 1 ]] && REDIS_ADDRESS=unix:$WORK/redis.sock
    REDIS_FLAG=--redis=$REDIS_ADDRESS
    MASTER_PORTS=()
    ;;
  cluster)
    [[ $REDIS_UNIX == 1 || $PIN != none ]] && { log "REDIS_MODE=cluster takes neither REDIS_UNIX nor PIN"; exit 2; }
    CLUSTER_DIR=$WORK/cluster
    SEEDS=$("$ROOT/tests/start_cluster.sh" "$CLUSTER_DIR")
    REDIS_PIDS=()
    for f in "$CLUSTER_DIR"/*/redis.pid; do
      port=$(basename "$(dirname "$f")")
      REDIS_PIDS+=("$(cat "$f")")
      # As deployed (deploy/local/redis.conf); start_cluster.sh runs without AOF.
      for kv in "appendonly $APPENDONLY" "appendfsync always" "maxmemory-policy noeviction" \
                "hash-max-listpack-entries 128"; do
        # shellcheck disable=SC2086
        [[ $(redis-cli -p "$port" config set $kv) == OK ]] || { log "CONFIG SET $kv on :$port failed"; exit 1; }
      done
    done
    # Masters, "port first-last ..." (slot ranges) each.
    mapfile -t MASTERS < <(redis-cli -p "${SEEDS##*:}" cluster nodes |
      awk '$3 ~ /master/ { split($2, a, "[:@]"); line = a[2]; for (i = 9; i <= NF; i++) line = line " " $i; print line }' | sort -n)
    MASTER_PORTS=()
    for m in "${MASTERS[@]}"; do MASTER_PORTS+=("${m%% *}"); done
    (( ${#MASTER_PORTS[@]} == 3 )) || { log "expected 3 masters, got: ${MASTERS[*]}"; exit 1; }
    REDIS_PORT=${MASTER_PORTS[0]}  # for DURING and redis-benchmark
    DURING_REDIS_PID=$(cat "$CLUSTER_DIR/$REDIS_PORT/redis.pid")
    REDIS_ADDRESS=$SEEDS
    REDIS_FLAG=--redis_cluster=$SEEDS
    # AOF rewrites started by CONFIG SET appendonly yes end before the load.
    for port in "${MASTER_PORTS[@]}"; do
      for _ in $(seq 100); do
        redis-cli -p "$port" info persistence | grep -q '^aof_rewrite_in_progress:0' && break
        sleep 0.1
      done
    done
    ;;
  *) log "REDIS_MODE must be standalone or cluster"; exit 2 ;;
esac
SERVER_ENV=()
[[ -n $SERVER_PRELOAD ]] && SERVER_ENV=(env "LD_PRELOAD=$SERVER_PRELOAD")
# start_server PORT LOG [FLAG...]: a townhalld with the deployed flags;
# sets STARTED_PID.
start_server() {
  # shellcheck disable=SC2086
  "${PIN_SERVER[@]}" "${SERVER_ENV[@]}" "$TOWNHALLD" --flagfile="$ROOT/deploy/local/townhalld.flags" \
    --listen="127.0.0.1:$1" "$REDIS_FLAG" \
    --auth_key_file="$WORK/auth_keys" \
    --bootstrap_credential_file="$WORK/bootstrap_credential" \
    --access_log=false --drain_delay=0s --shutdown_grace=2s $SERVER_FLAGS "${@:3}" \
    >"$2" 2>&1 &
  STARTED_PID=$!
}
start_server "$GRPC_PORT" "$WORK/townhalld.log"
SERVER_PID=$STARTED_PID
METRICS_SERVER_PID=""
TARGETS=(off)
if [[ $METRICS_COMPARE == 1 ]]; then
  METRICS_GRPC_PORT=$(free_port)
  METRICS_HTTP_PORT=$(free_port)
  start_server "$METRICS_GRPC_PORT" "$WORK/townhalld-metrics.log" \
    --metrics_listen="127.0.0.1:$METRICS_HTTP_PORT"
  METRICS_SERVER_PID=$STARTED_PID
  TARGETS=(off on)
fi

SERVER=127.0.0.1:$GRPC_PORT
# Two tenants: reads see exactly PREFILL sessions; writes go elsewhere.
mapfile -t READ < <("$BENCH" --setup --server="$SERVER" --tenant=bench-read \
  --prefill="$PREFILL" --bootstrap_credential_file="$WORK/bootstrap_credential")
mapfile -t WRITE < <("$BENCH" --setup --server="$SERVER" --tenant=bench-write \
  --prefill=0 --bootstrap_credential_file="$WORK/bootstrap_credential")
# Votes: VOTE_SESSIONS sessions sharing QUESTIONS approved questions
# (post-moderation, votes_per_minute 10000).
mapfile -t VOTE < <("$BENCH" --setup --server="$SERVER" --tenant=bench-vote \
  --prefill=0 --questions="$QUESTIONS" --vote_sessions="$VOTE_SESSIONS" \
  --bootstrap_credential_file="$WORK/bootstrap_credential")
READ_TOKEN=${READ[0]:-}; SESSION_ID=${READ[1]:-}; WRITE_TOKEN=${WRITE[0]:-}
VOTE_TOKEN=${VOTE[0]:-}; VOTE_SESSION=${VOTE[1]:-}
[[ -n $READ_TOKEN && -n $SESSION_ID && -n $WRITE_TOKEN && -n $VOTE_TOKEN && -n $VOTE_SESSION ]] || { log "setup failed"; cat "$WORK/townhalld.log" >&2; exit 1; }
# Polls: POLL_VOTERS registered voters and an open poll.
POLL_TOKEN=""; POLL_SESSION=""
if [[ " $RPCS " == *" ballot"* || -n $POLL_WATCHERS ]]; then
  poll_setup_start=$(date +%s)
  mapfile -t POLL < <("$BENCH" --setup --server="$SERVER" --tenant=bench-poll \
    --prefill=0 --poll_voters="$POLL_VOTERS" \
    --bootstrap_credential_file="$WORK/bootstrap_credential")
  POLL_TOKEN=${POLL[0]:-}; POLL_SESSION=${POLL[1]:-}
  [[ -n $POLL_TOKEN && -n $POLL_SESSION ]] || { log "poll setup failed"; tail -20 "$WORK/townhalld.log" >&2; exit 1; }
  log "bench-poll: $POLL_VOTERS voters registered and a poll opened in $(( $(date +%s) - poll_setup_start ))s"
fi
POLL_FLAGS=(--auth_key_file="$WORK/auth_keys" --tenant=bench-poll
  --pair_offset_file="$WORK/ballot_offset")
VOTE_FLAGS=(--auth_key_file="$WORK/auth_keys" --tenant=bench-vote
  --participants="$PARTICIPANTS" --pair_offset_file="$WORK/pair_offset")
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# utime+stime in clock ticks, summed over the given pids; context switches
# of all threads of one process
cpu_ticks() { local p; for p in "$@"; do cat "/proc/$p/stat"; done | awk '{s += $14 + $15} END {print s}'; }
ctx_switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {s += $2} END {print s + 0}'; }
TICKS=$(getconf CLK_TCK)
secs() { echo "${1%s}"; }  # "10s" -> 10

log "redis $REDIS_MODE $REDIS_ADDRESS (appendonly $APPENDONLY), townhalld :$GRPC_PORT, pin=$PIN," \
    "rounds=$ROUNDS duration=$DURATION warmup=$WARMUP concurrency=$CONCURRENCY" \
    "channels=$CHANNELS $SERVER_FLAGS${SERVER_PRELOAD:+ LD_PRELOAD=$SERVER_PRELOAD}"

RESULTS=()
for round in $(seq "$ROUNDS"); do
  rpc_index=0
  # With METRICS_COMPARE, odd rounds run off then on, even rounds on then
  # off: neither server always goes first.
  order=("${TARGETS[@]}")
  (( round % 2 == 0 && ${#TARGETS[@]} == 2 )) && order=(on off)
  for rpc in $RPCS; do
  for metrics in "${order[@]}"; do
    # The same step for the same RPC and server in every round (the tables
    # group by it).
    step_of_target=1
    [[ $metrics == on ]] && step_of_target=2
    step=$(( rpc_index * ${#TARGETS[@]} + step_of_target ))
    server=$SERVER; server_pid=$SERVER_PID
    if [[ $metrics == on ]]; then
      server=127.0.0.1:$METRICS_GRPC_PORT; server_pid=$METRICS_SERVER_PID
    fi
    token=$READ_TOKEN; session=$SESSION_ID; extra=()
    [[ $rpc == create_session ]] && token=$WRITE_TOKEN
    if [[ $rpc == upvote* ]]; then token=$VOTE_TOKEN; session=$VOTE_SESSION; extra=("${VOTE_FLAGS[@]}"); fi
    if [[ $rpc == ballot* ]]; then token=$POLL_TOKEN; session=$POLL_SESSION; extra=("${POLL_FLAGS[@]}"); fi
    out=$WORK/$round.$step.json
    "${PIN_CLIENT[@]}" "$BENCH" --server="$server" --token="$token" --rpc="$rpc" \
      --session_id="$session" --duration="$DURATION" --warmup="$WARMUP" \
      --concurrency="$CONCURRENCY" --channels="$CHANNELS" "${extra[@]}" --json >"$out" 2>"$out.err" &
    bench_pid=$!
    sleep "$(secs "$WARMUP")"
    for port in "${MASTER_PORTS[@]}"; do redis-cli -p "$port" config resetstat >/dev/null; done
    s0=$(cpu_ticks "$server_pid"); r0=$(cpu_ticks "${REDIS_PIDS[@]}"); c0=$(ctx_switches "$server_pid")
    during_pid=""
    if [[ -n $DURING ]]; then
      RPC=$rpc SERVER_PID=$server_pid REDIS_PID=$DURING_REDIS_PID REDIS_PORT=$REDIS_PORT \
        bash -c "$DURING" >"$out.during" 2>&1 &
      during_pid=$!
    fi
    sleep "$(secs "$DURATION")"
    s1=$(cpu_ticks "$server_pid"); r1=$(cpu_ticks "${REDIS_PIDS[@]}"); c1=$(ctx_switches "$server_pid")
    # Each master's calls in the window: all commands but REPLCONF (the
    # replicas' acknowledgements), and EVALSHA (scripts: votes) alone.
    masters=$(for port in "${MASTER_PORTS[@]}"; do
      redis-cli -p "$port" info commandstats | tr -d '\r' | awk -F'[:=,]' -v port="$port" '
        /^cmdstat_/ && $1 != "cmdstat_replconf" { all += $3; if ($1 == "cmdstat_evalsha") evalsha = $3 }
        END { printf "{\"port\":%d,\"calls\":%d,\"evalsha\":%d}\n", port, all, evalsha }'
    done | jq -sc .)
    # After the sample: a DURING that outlives DURATION must not stretch the
    # window the CPU figures are taken over.
    [[ -n $during_pid ]] && { wait "$during_pid" || log "DURING failed: $(tail -3 "$out.during")"; }
    if ! wait "$bench_pid"; then log "$rpc failed:"; cat "$out.err" >&2; exit 1; fi
    [[ -s $out.err ]] && log "$rpc: $(cat "$out.err")"
    line=$(jq -c --argjson s "$(( s1 - s0 ))" --argjson r "$(( r1 - r0 ))" \
      --argjson cs "$(( c1 - c0 ))" --argjson hz "$TICKS" \
      --argjson round "$round" --argjson step "$step" --argjson masters "$masters" \
      --arg mode "$REDIS_MODE" --arg metrics "$metrics" \
      '. + {round: $round, step: $step, server_cpu_s: ($s / $hz), redis_cpu_s: ($r / $hz),
            server_ctx_switches: $cs, redis_mode: $mode, masters: $masters,
            metrics: $metrics}' "$out")
    echo "$line" >&2
    RESULTS+=("$line")
  done
  rpc_index=$((rpc_index + 1))
  done
done

# ---- the table: medians over rounds; ratios against the same round's Ping
# jq helpers of every table below.
JQ_DEFS='def median: sort | if length % 2 == 1 then .[length / 2 | floor]
                            else (.[length / 2 - 1] + .[length / 2]) / 2 end;
         def per_rpc(x): if .ok > 0 then x * 1e6 / .ok else 0 end;
         # Each run with its ratio to the Ping baseline of its round (the
         # mean of that round'"'"'s Ping runs): throughput and p99.
         def with_ratios:
           (group_by(.round) | map({key: (.[0].round | tostring),
              value: (map(select(.rpc == "ping")) as $p
                      | if ($p | length) > 0
                        then {tp: ($p | map(.throughput) | add / length),
                              p99: ($p | map(.p99_us) | add / length)}
                        else null end)}) | from_entries) as $base
           | map(. + {ratio: ($base[.round | tostring].tp as $b | if $b then .throughput / $b else null end),
                      p99_ratio: ($base[.round | tostring].p99 as $b | if $b then .p99_us / $b else null end)});'
printf '%s\n' "${RESULTS[@]}" | jq -rs "$JQ_DEFS"'
  def r2: (. * 100 | round) / 100;
  def r1: (. * 10 | round) / 10;
  def ms: (. / 10 | round) / 100;
  with_ratios
  | (map(.round) | unique | length) as $rounds
  | "| RPC | throughput (ok/s) | ratio to Ping | p50 (ms) | p99 (ms) | p99 ratio | errors | CPU µs/RPC server / Redis / client | server ctx switches/RPC |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    (group_by(.step)[] |
      "| \(.[0].rpc)\(if .[0].rpc == "ping" then (if .[0].step <= 2 then " (before)" else " (after)" end) else "" end)\(if .[0].metrics == "on" then " (metrics on)" else "" end)" +
      " | \(map(.throughput) | median | round)" +
      " | \(map(.ratio // empty) | if length > 0 then median | r2 else "-" end)" +
      " | \(map(.p50_us) | median | ms) | \(map(.p99_us) | median | ms)" +
      " | \(map(.p99_ratio // empty) | if length > 0 then median | r2 else "-" end)" +
      " | \(map(.errors) | add)\(map(.error_codes | to_entries[] | "\(.key)=\(.value)") | if length > 0 then " (" + join(", ") + ")" else "" end)" +
      " | \(map(per_rpc(.server_cpu_s)) | median | r1) / \(map(per_rpc(.redis_cpu_s)) | median | r1) / \(map(.client_cpu_us_per_rpc) | median | r1)" +
      " | \(map(per_rpc(.server_ctx_switches) / 1e6) | median | r2) |"),
    "",
    "Medians of \($rounds) round(s); each ratio is against the mean of the Ping runs of its own round.",
    "Per round, ratio to Ping: " +
      ([group_by(.step)[] | select(.[0].rpc != "ping") |
        "\(.[0].rpc) \(map(.ratio | r2) | map(tostring) | join(" / "))"] | join("; ")) + ".",
    "Ping runs (ok/s, in order): \(map(select(.rpc == "ping") | .throughput | round) | map(tostring) | join(", "))."'
[[ -n $RESULTS_JSON ]] && printf '%s\n' "${RESULTS[@]}" >"$RESULTS_JSON"

if [[ $METRICS_COMPARE == 1 ]]; then
  echo
  echo "The cost of metrics: each RPC against the townhalld with --metrics_listen over the one without, run after run (on / off; below 1 is slower with metrics):"
  echo
  printf '%s\n' "${RESULTS[@]}" | jq -rs "$JQ_DEFS"'
    def r3: (. * 1000 | round) / 1000;
    "| RPC | throughput on / off (median) | per round | p99 on / off | server CPU µs/RPC off → on |",
    "|---|---:|---:|---:|---:|",
    (group_by(.rpc)[] | . as $runs
      | [group_by(.round)[] | (map(select(.metrics == "off"))) as $off | (map(select(.metrics == "on"))) as $on
         | select(($off | length) > 0 and ($on | length) > 0)
         | {tp: (($on | map(.throughput) | add) / ($off | map(.throughput) | add)),
            p99: (($on | map(.p99_us) | add) / ($off | map(.p99_us) | add)),
            cpu_off: ($off | map(per_rpc(.server_cpu_s)) | add / length),
            cpu_on: ($on | map(per_rpc(.server_cpu_s)) | add / length)}] as $pairs
      | "| \($runs[0].rpc) | \($pairs | map(.tp) | median | r3) | \($pairs | map(.tp | r3 | tostring) | join(" / "))" +
        " | \($pairs | map(.p99) | median | r3) | \($pairs | map(.cpu_off) | median | (. * 10 | round) / 10) → \($pairs | map(.cpu_on) | median | (. * 10 | round) / 10) |")'
  # The same cost without the noise of a shared machine: the CPU the
  # instruments take per call (bench/metrics_cost_bench.cc), against the
  # server's CPU per call without metrics in this run.
  echo
  echo "CPU of the metrics per call (metrics-cost-bench, 2 threads) over the server's CPU per call without metrics (median of this run):"
  echo
  echo "| RPC | metrics ns/call | server µs/RPC without metrics | cost |"
  echo "|---|---:|---:|---:|"
  COST=$("$BUILD_DIR/bench/metrics-cost-bench" --threads=2 --calls=2000000)
  for pair in "ping ping" "upvote vote"; do
    read -r rpc kind <<<"$pair"
    ns=$(jq -r "select(.kind == \"$kind\") | .ns_per_call" <<<"$COST")
    us=$(printf '%s\n' "${RESULTS[@]}" | jq -rs "$JQ_DEFS"' map(select(.rpc == "'"$rpc"'" and .metrics == "off")) | if length > 0 then map(per_rpc(.server_cpu_s)) | median else empty end')
    [[ -n $us ]] || continue
    awk -v r="$rpc" -v ns="$ns" -v us="$us" 'BEGIN { printf "| %s | %.0f | %.1f | %.2f %% |\n", r, ns, us, ns / (us * 1000) * 100 }'
  done
fi

# ---- Ping against the floor: a bare gRPC callback server (bench/bare_grpc_server.cc,
# same proto, no authentication, logging or Redis) and townhalld's
# authenticated Ping, driven by h2load (nghttp2's HTTP/2 load generator, a
# client we did not write and that costs little CPU per call), alternately
# for ROUNDS rounds. h2load counts HTTP status only, and gRPC errors are
# HTTP 200: a run counts as OK only if every call got the 11-byte response
# (the 5-byte gRPC frame header and the echoed payload "ping") back.
BARE_RESULTS=()
if [[ $BARE_COMPARE == 1 ]]; then
  BARE_PORT_FILE=$WORK/bare.port
  "${PIN_SERVER[@]}" "$BUILD_DIR/bench/bare-grpc-server" --listen=127.0.0.1:0 \
    --port_file="$BARE_PORT_FILE" >"$WORK/bare.log" 2>&1 &
  BARE_PID=$!
  for _ in $(seq 50); do [[ -s $BARE_PORT_FILE ]] && break; sleep 0.1; done
  BARE_SERVER=127.0.0.1:$(cat "$BARE_PORT_FILE")
  # PingRequest{payload: "ping"} in a gRPC frame: flag 0, length 6, 0a 04 "ping".
  printf '\x00\x00\x00\x00\x06\x0a\x04ping' >"$WORK/ping.grpc"
  for round in $(seq "$ROUNDS"); do
    order=(bare townhalld)
    (( round % 2 == 0 )) && order=(townhalld bare)
    for target in "${order[@]}"; do
      # The same request bytes to both, the token included: h2load sends
      # the header unindexed, so each server Huffman-decodes ~400 bytes per
      # call whether it reads them or not (BARE_AUTH_HEADER=0: the bare
      # server gets no token, as before 2026-12-08).
      auth=(-H "authorization: Bearer $READ_TOKEN")
      if [[ $target == bare ]]; then address=$BARE_SERVER; pid=$BARE_PID
        [[ $BARE_AUTH_HEADER == 1 ]] || auth=()
      else address=$SERVER; pid=$SERVER_PID; fi
      out=$WORK/h2load.$round.$target
      "${PIN_CLIENT[@]}" h2load -c "$H2LOAD_CLIENTS" -m "$H2LOAD_STREAMS" -t 1 \
        --warm-up-time="$WARMUP" -D "$(secs "$DURATION")" -d "$WORK/ping.grpc" \
        -H 'content-type: application/grpc' -H 'te: trailers' "${auth[@]}" \
        "http://$address/townhall.v1.DiagnosticsService/Ping" >"$out" 2>&1 &
      h2load_pid=$!
      # The server's CPU over h2load's measured window only (after warm-up).
      sleep "$(secs "$WARMUP")"
      s0=$(cpu_ticks "$pid")
      sleep "$(secs "$DURATION")"
      s1=$(cpu_ticks "$pid")
      wait "$h2load_pid" || { log "h2load against $target failed:"; tail -5 "$out" >&2; exit 1; }
      line=$(awk -v target="$target" -v round="$round" -v ticks="$(( s1 - s0 ))" -v hz="$TICKS" \
        -v dur="$(secs "$DURATION")" '
        /^finished in/ { rps = $4 + 0 }
        /^requests:/ { ok = $8 + 0 }
        /^traffic:/ { for (i = 1; i <= NF; i++) if ($i == "data") { d = $(i - 1); gsub(/[()]/, "", d); data = d + 0 } }
        END { printf "{\"target\":\"%s\",\"round\":%d,\"rps\":%.1f,\"ok\":%d,\"data_bytes\":%d,\"server_cpu_us_per_call\":%.2f}\n",
                target, round, rps, ok, data, (rps > 0 ? ticks / hz * 1e6 / (rps * dur) : 0) }' "$out")
      ok=$(jq .ok <<<"$line"); data=$(jq .data_bytes <<<"$line")
      if (( ok == 0 || data < ok * 11 )); then
        log "h2load against $target: $ok calls but $data bytes of responses (not every call was answered OK):"
        cat "$out" >&2; exit 1
      fi
      echo "$line" >&2
      BARE_RESULTS+=("$line")
    done
  done
  kill -TERM "$BARE_PID" 2>/dev/null; wait "$BARE_PID" 2>/dev/null || true
  BARE_PID=""
  echo
  echo "Ping against a bare gRPC callback server (h2load -c $H2LOAD_CLIENTS -m $H2LOAD_STREAMS, $DURATION after $WARMUP of warm-up, payload \"ping\", token header to $( [[ $BARE_AUTH_HEADER == 1 ]] && echo both || echo townhalld only); medians of $ROUNDS round(s)):"
  echo
  printf '%s\n' "${BARE_RESULTS[@]}" | jq -rs "$JQ_DEFS"'
    def r2: (. * 100 | round) / 100;
    def r1: (. * 10 | round) / 10;
    (map(select(.target == "bare"))) as $bare | (map(select(.target == "townhalld"))) as $th
    | [range(0; $bare | length) as $i | $th[$i].rps / $bare[$i].rps] as $ratios
    | "| server | calls/s | server CPU µs/call |",
      "|---|---:|---:|",
      "| bare gRPC | \($bare | map(.rps) | median | round) | \($bare | map(.server_cpu_us_per_call) | median | r1) |",
      "| townhalld Ping (authenticated) | \($th | map(.rps) | median | round) | \($th | map(.server_cpu_us_per_call) | median | r1) |",
      "",
      "Ping / bare: \($ratios | median | r2) (rounds \($ratios | map(r2 | tostring) | join(" / ")))."'
fi

if [[ $REDIS_MODE == cluster ]]; then
  echo
  echo "Each master's share of the commands (INFO commandstats over each measured window, REPLCONF left out; medians over rounds):"
  echo
  printf '%s\n' "${RESULTS[@]}" | jq -rs "$JQ_DEFS"'
    def pct: (. * 1000 | round) / 10;
    def shares(f): (map(f) | add) as $t | map(if $t > 0 then f / $t | pct else 0 end);
    (.[0].masters | map(":\(.port)")) as $ports
    | "| RPC | calls/s, all masters | share of calls \($ports | join(" / ")) (%) | EVALSHA share (%) |",
      "|---|---:|---:|---:|",
      (group_by(.step)[] | select(.[0].rpc != "ping") |
        "| \(.[0].rpc) | \(map((.masters | map(.calls) | add) / .seconds) | median | round)" +
        " | \([range(0; $ports | length) as $i | map(.masters | shares(.calls)[$i]) | median] | map(tostring) | join(" / "))" +
        " | \([range(0; $ports | length) as $i | map(.masters | shares(.evalsha)[$i]) | median] | map(tostring) | join(" / ")) |")'
  # Where the vote sessions live: their keys share the tag {s:<tenant>:<session>}
  # (services/questions/question_store.h).
  declare -A SESSIONS_ON=()
  IFS=, read -ra vote_ids <<<"$VOTE_SESSION"
  for id in "${vote_ids[@]}"; do
    slot=$(redis-cli -p "$REDIS_PORT" cluster keyslot "th:{s:bench-vote:$id}")
    for m in "${MASTERS[@]}"; do
      read -ra ranges <<<"${m#* }"
      for r in "${ranges[@]}"; do
        [[ $r == *-* ]] || r=$r-$r
        if (( slot >= ${r%-*} && slot <= ${r#*-} )); then
          SESSIONS_ON[${m%% *}]=$(( ${SESSIONS_ON[${m%% *}]:-0} + 1 ))
        fi
      done
    done
  done
  echo
  echo "The ${#vote_ids[@]} vote session(s) by master: $(for p in "${MASTER_PORTS[@]}"; do printf ':%s %s; ' "$p" "${SESSIONS_ON[$p]:-0}"; done | sed 's/; $//')."
fi
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
echo
echo "Machine load average (1/5/15 min) at the start of the rounds: $LOAD_START; at their end: $LOAD_END."

# ---- WatchQueue: a fresh townhalld per watcher count (clean RSS baseline)
WATCH_RESULTS=()
for w in $WATCHERS; do
  port=$(free_port)
  start_server "$port" "$WORK/townhalld-watch-$w.log" --max_streams=$((w > 20000 ? w + 1000 : 20000))
  WATCH_SERVER_PID=$STARTED_PID
  out=$WORK/watch.$w.json
  during_pid=""
  if [[ -n $WATCH_DURING ]]; then
    W=$w SERVER_PID=$WATCH_SERVER_PID bash -c "$WATCH_DURING" &
    during_pid=$!
  fi
  if ! "${PIN_CLIENT[@]}" "$BENCH" --watch --server="127.0.0.1:$port" --token="$VOTE_TOKEN" \
      --tenant=bench-vote --auth_key_file="$WORK/auth_keys" --participants="$PARTICIPANTS" \
      --watchers="$w" --watch_channels="$WATCH_CHANNELS" --deliveries="$DELIVERIES" \
      --vote_concurrency="$WATCH_VOTE_CONCURRENCY" --server_pid="$WATCH_SERVER_PID" \
      --watch_opening="$WATCH_OPENING" \
      >"$out" 2>"$out.err"; then
    log "watch $w failed:"; cat "$out.err" >&2; tail -20 "$WORK/townhalld-watch-$w.log" >&2
  fi
  [[ -n $during_pid ]] && { kill "$during_pid" 2>/dev/null || true; wait "$during_pid" 2>/dev/null || true; }
  [[ -s $out.err ]] && log "watch $w: $(cat "$out.err")"
  [[ -s $out ]] && { cat "$out" >&2; WATCH_RESULTS+=("$(jq -c --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" '. + {load: $load}' "$out")"); }
  kill -TERM "$WATCH_SERVER_PID" 2>/dev/null; wait "$WATCH_SERVER_PID" 2>/dev/null || true
  WATCH_SERVER_PID=""
done
if (( ${#WATCH_RESULTS[@]} > 0 )); then
  echo
  echo "WatchQueue: delivery of \"question.approved\" from the start of ApproveQuestion (from its completion in brackets), over every (watcher, question):"
  echo
  printf '%s\n' "${WATCH_RESULTS[@]}" | jq -rs '
    def r1: (. * 10 | round) / 10;
    def r2: (. * 100 | round) / 100;
    "| watchers | p50 (ms) | p99 (ms) | max (ms) | delivered / missing | server CPU µs per delivered message | ApproveQuestion p50 (ms) | server RSS before → after (MiB) | server memory per watcher | open all (s) |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    (.[] | "| \(.watchers) | \(.idle.from_start_ms.p50 | r2) (\(.idle.from_done_ms.p50 | r2)) | \(.idle.from_start_ms.p99 | r2) (\(.idle.from_done_ms.p99 | r2)) | \(.idle.from_start_ms.max | r2) | \(.idle.delivered) / \(.idle.missing) | \(.server_cpu_us_per_delivered // "-" | if type == "number" then r2 else . end) | \(.idle.approve_rpc_ms.p50 | r2) | \(.server_rss_before_kb / 1024 | r1) → \(.server_rss_after_kb / 1024 | r1) | \(.server_bytes_per_watcher / 1024 | r1) KiB | \(.open_all_s | r2) |"),
    "",
    (if (map(.loaded) | map(select(. != null)) | length) > 0 then
      "Under a background vote load:",
      "",
      "| watchers | votes outstanding | votes ok/s | vote p99 (ms) | vote messages per watcher per s, votes only (min / median / max) | same, during approvals | approved p50 (ms) | p99 (ms) | max (ms) | missing |",
      "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
      (.[] | select(.loaded != null) | "| \(.watchers) | \(.loaded.vote_concurrency) | \(.loaded.votes_ok_per_s | round) | \(.loaded.vote_p99_ms | r2) | \(.loaded.vote_msgs_per_watcher_per_s_quiet.min | r2) / \(.loaded.vote_msgs_per_watcher_per_s_quiet.p50 | r2) / \(.loaded.vote_msgs_per_watcher_per_s_quiet.max | r2) | \(.loaded.vote_msgs_per_watcher_per_s.min | r2) / \(.loaded.vote_msgs_per_watcher_per_s.p50 | r2) / \(.loaded.vote_msgs_per_watcher_per_s.max | r2) | \(.loaded.deliveries.from_start_ms.p50 | r2) | \(.loaded.deliveries.from_start_ms.p99 | r2) | \(.loaded.deliveries.from_start_ms.max | r2) | \(.loaded.deliveries.missing) |")
    else empty end),
    "",
    "Load average after each watch run: \(map("\(.watchers): \(.load)") | join("; "))."'
fi

# ---- WatchPolls: a fresh townhalld per watcher count, like WatchQueue
POLL_WATCH_RESULTS=()
for w in $POLL_WATCHERS; do
  port=$(free_port)
  start_server "$port" "$WORK/townhalld-pollwatch-$w.log"
  WATCH_SERVER_PID=$STARTED_PID
  out=$WORK/pollwatch.$w.json
  if ! "${PIN_CLIENT[@]}" "$BENCH" --watch_polls --server="127.0.0.1:$port" --token="$POLL_TOKEN" \
      --tenant=bench-poll --auth_key_file="$WORK/auth_keys" --watchers="$w" \
      --watch_channels="$WATCH_CHANNELS" --ballot_runs="$POLL_RUNS" \
      --ballot_run_size="$POLL_RUN_SIZE" --delivery_interval="$POLL_INTERVAL" \
      --server_pid="$WATCH_SERVER_PID" >"$out" 2>"$out.err"; then
    log "poll watch $w failed:"; cat "$out.err" >&2; tail -20 "$WORK/townhalld-pollwatch-$w.log" >&2
  fi
  [[ -s $out.err ]] && log "poll watch $w: $(cat "$out.err")"
  [[ -s $out ]] && { cat "$out" >&2; POLL_WATCH_RESULTS+=("$(jq -c --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" '. + {load: $load}' "$out")"); }
  kill -TERM "$WATCH_SERVER_PID" 2>/dev/null; wait "$WATCH_SERVER_PID" 2>/dev/null || true
  WATCH_SERVER_PID=""
done
if (( ${#POLL_WATCH_RESULTS[@]} > 0 )); then
  echo
  echo "WatchPolls: from each CastBallot reply (from the call's start in brackets) to each watcher's first \"poll.ballot\" change whose ballot_count covers the ballot, over every (watcher, ballot); $POLL_RUNS runs of $POLL_RUN_SIZE first ballots cast at once, $POLL_INTERVAL apart:"
  echo
  printf '%s\n' "${POLL_WATCH_RESULTS[@]}" | jq -rs '
    def r1: (. * 10 | round) / 10;
    def r2: (. * 100 | round) / 100;
    "| watchers | p50 (ms) | p99 (ms) | max (ms) | delivered / missing | ballot messages per watcher | CastBallot p50 / p99 (ms) | server RSS before → after (MiB) | server memory per watcher | open all (s) |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    (.[] | "| \(.watchers) | \(.from_reply_ms.p50 | r2) (\(.from_start_ms.p50 | r2)) | \(.from_reply_ms.p99 | r2) (\(.from_start_ms.p99 | r2)) | \(.from_reply_ms.max | r2) | \(.delivered) / \(.missing) | \(.ballot_messages_per_watcher | r1) | \(.cast_rpc_ms.p50 | r2) / \(.cast_rpc_ms.p99 | r2) | \(.server_rss_before_kb / 1024 | r1) → \(.server_rss_after_kb / 1024 | r1) | \(.server_bytes_per_watcher / 1024 | r1) KiB | \(.open_all_s | r2) |"),
    "",
    "Load average after each run: \(map("\(.watchers): \(.load)") | join("; "))."'
fi

if [[ $REDIS_BENCHMARK == 1 ]]; then
  echo
  echo "redis-benchmark (same Redis, appendonly $APPENDONLY, client pinned like the load generator${CLUSTER_DIR:+, --cluster}):"
  echo '```'
  cluster_flag=()
  [[ $REDIS_MODE == cluster ]] && cluster_flag=(--cluster)
  "${PIN_CLIENT[@]}" redis-benchmark -p "$REDIS_PORT" "${cluster_flag[@]}" -q -n 100000 -t get,set -P 1 2>&1 | tr '\r' '\n' | grep -v '^$' | grep -E 'requests per second'
  echo '```'
fi

# ---- Issue 19's rows, from the runs above (what each row needs ran in this
# invocation: ping and upvote/get_session in RPCS, BARE_COMPARE=1, WATCHERS
# with 1000, 5000, 10000 and 20000; a row whose runs are missing says so).
if (( ${#RESULTS[@]} > 0 )); then
  echo
  echo "Issue 19's rows in this run (medians over rounds; targets from the issue):"
  echo
  {
    printf '%s\n' "${RESULTS[@]}" | jq -c '{kind: "rpc"} + .'
    (( ${#BARE_RESULTS[@]} > 0 )) && printf '%s\n' "${BARE_RESULTS[@]}" | jq -c '{kind: "bare"} + .'
    (( ${#WATCH_RESULTS[@]} > 0 )) && printf '%s\n' "${WATCH_RESULTS[@]}" | jq -c '{kind: "watch"} + .'
    true
  } | jq -rs "$JQ_DEFS"'
    def r2: (. * 100 | round) / 100;
    def or_missing(f): if . == null then "not run" else f end;
    (map(select(.kind == "rpc")) | with_ratios) as $rpc
    | (map(select(.kind == "bare"))) as $bare
    | (map(select(.kind == "watch")) | map({key: (.watchers | tostring), value: .}) | from_entries) as $w
    | def ratio(name): ($rpc | map(select(.rpc == name) | .ratio) | if length > 0 then median else null end);
      ($bare | map(select(.target == "bare"))) as $b | ($bare | map(select(.target == "townhalld"))) as $t
    | (if ($b | length) > 0 then [range(0; $b | length) as $i | $t[$i].rps / $b[$i].rps] | median else null end) as $bare_ratio
    | "| row | this run | target |",
      "|---|---:|---:|",
      "| Ping / bare gRPC (h2load) | \($bare_ratio | or_missing(r2)) | ≥ 0.80 |",
      "| upvote / Ping | \(ratio("upvote") | or_missing(r2)) | ≥ 0.70 |",
      "| GetSession / Ping | \(ratio("get_session") | or_missing(r2)) | ≥ 0.85 |",
      "| approved question, idle: p99 at 10,000 / 20,000 watchers (ms) | \($w["10000"].idle.from_start_ms.p99 | or_missing(r2)) / \($w["20000"].idle.from_start_ms.p99 | or_missing(r2)) | 20,000: ≤ 250 |",
      "| votes/s with 5,000 watchers / with 1,000 | \(if $w["5000"].loaded and $w["1000"].loaded then ($w["5000"].loaded.votes_ok_per_s / $w["1000"].loaded.votes_ok_per_s | r2) else null end | or_missing(.)) (\($w["5000"].loaded.votes_ok_per_s | or_missing(round)) / \($w["1000"].loaded.votes_ok_per_s | or_missing(round))) | ≥ 0.50 |",
      "| approved question under votes: p99 at 5,000 / 10,000 watchers (ms) | \($w["5000"].loaded.deliveries.from_start_ms.p99 | or_missing(r2)) / \($w["10000"].loaded.deliveries.from_start_ms.p99 | or_missing(r2)) | ≤ 500 |",
      "| server CPU per delivered message, idle (µs; largest run) | \(if ($w | length) > 0 then ($w | to_entries | max_by(.value.watchers) | .value.server_cpu_us_per_delivered) else null end | or_missing(r2)) | |",
      "| server memory per idle watcher (KiB; largest run) | \(if ($w | length) > 0 then ($w | to_entries | max_by(.value.watchers) | .value.server_bytes_per_watcher / 1024) else null end | or_missing(r2)) | ≤ 12 |"'
fi
