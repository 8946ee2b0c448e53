#!/usr/bin/env bash
# Starts a local townhall: installs what is missing, builds, starts Redis and
# townhalld, loads the demo conference and prints how to connect.
# State (keys, credentials, Redis data, logs) lives in .local/ (not in git).
# Run it again to rebuild and restart; data is kept.
#
#   ./deploy/local/up.sh              # one Redis (.local/redis, on disk)
#   ./deploy/local/up.sh --cluster    # a local Redis Cluster, 3 masters +
#                                     # 3 replicas (tests/start_cluster.sh,
#                                     # in memory: reused while it runs)
#   ./deploy/local/up.sh --replicas=3 # three townhalld behind haproxy
#                                     # (HTTP/2, one call per replica in
#                                     # turn, health-checked) on the usual
#                                     # port; the replicas on the next ones
#   ./deploy/local/up.sh --no-build   # restart without installing or building
#
# Environment: TOWNHALL_PORT (50051: townhalld, or haproxy with --replicas),
# TOWNHALL_REPLICA_PORT (first replica's port, TOWNHALL_PORT + 1),
# TOWNHALL_REDIS_PORT (6390), TOWNHALL_METRICS_PORT (9464, replica i on
# + i - 1), TOWNHALL_STATE (.local), BUILD_DIR (build).
set -euo pipefail
usage() {
  echo "usage: $0 [--cluster] [--replicas=N] [--no-build]" >&2
  exit 2
}
CLUSTER=0
REPLICAS=1
BUILD=1
for arg in "$@"; do
  case $arg in
    --cluster) CLUSTER=1 ;;
    --replicas=*)
      REPLICAS=${arg#--replicas=}
      [[ $REPLICAS =~ ^[1-9][0-9]*$ ]] || usage
      ;;
    --no-build) BUILD=0 ;;
    *) usage ;;
  esac
done
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
STATE=${TOWNHALL_STATE:-$ROOT/.local}
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
REDIS_PORT=${TOWNHALL_REDIS_PORT:-6390}
GRPC_PORT=${TOWNHALL_PORT:-50051}
REPLICA_PORT=${TOWNHALL_REPLICA_PORT:-$((GRPC_PORT + 1))}
METRICS_PORT=${TOWNHALL_METRICS_PORT:-9464}
# How the messages name the state directory: .local/ from the top of the
# checkout, else its full path.
SHOWN=$STATE
[[ $STATE == "$ROOT/.local" ]] && SHOWN=.local

if ((BUILD)); then
  ./deploy/install-deps.sh
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD_DIR" -j "$(nproc)"
fi
TOWNHALLD=$BUILD_DIR/services/townhalld/townhalld

mkdir -p "$STATE/redis"
chmod 700 "$STATE"
# Secrets are made here, once, and never committed.
[[ -s $STATE/auth_keys ]] || echo "k1 $(openssl rand -hex 32)" > "$STATE/auth_keys"
[[ -s $STATE/bootstrap_credential ]] || openssl rand -hex 24 > "$STATE/bootstrap_credential"
chmod 600 "$STATE/auth_keys" "$STATE/bootstrap_credential"

if ((CLUSTER)); then
  # Reuse the cluster while its first seed says cluster_state:ok; else
  # start a new, empty one (its nodes keep data in memory only).
  SEEDS=$(cat "$STATE/cluster/seeds" 2>/dev/null || true)
  FIRST=${SEEDS%%,*}
  if [[ -z $SEEDS ]] || ! redis-cli -p "${FIRST##*:}" cluster info 2>/dev/null |
      grep -q '^cluster_state:ok'; then
    for pidfile in "$STATE"/cluster/*/redis.pid; do
      [[ -f $pidfile ]] && kill -TERM "$(cat "$pidfile")" 2>/dev/null || true
    done
    rm -rf "$STATE/cluster"
    SEEDS=$("$ROOT/tests/start_cluster.sh" "$STATE/cluster")
    echo "$SEEDS" > "$STATE/cluster/seeds"
  fi
  REDIS_FLAG=--redis_cluster=$SEEDS
  REDIS_WHERE="a Redis Cluster of 3 masters + 3 replicas: $SEEDS"
else
  if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    redis-server "$ROOT/deploy/local/redis.conf" --port "$REDIS_PORT" \
      --dir "$STATE/redis" --daemonize yes --pidfile "$STATE/redis.pid" \
      --logfile "$STATE/redis.log"
    for _ in $(seq 50); do
      redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
      sleep 0.1
    done
  fi
  REDIS_FLAG=--redis=127.0.0.1:$REDIS_PORT
  REDIS_WHERE="Redis on 127.0.0.1:$REDIS_PORT"
fi

# grpc.health.v1 Check of "" without grpc tools: curl speaks HTTP/2
# (prior knowledge); the request is an empty message (5 NUL bytes), and
# 00 00000002 0801 is the SERVING reply.
serving() {
  local reply
  reply=$(printf '\0\0\0\0\0' | curl -s --max-time 2 --http2-prior-knowledge \
    -H 'content-type: application/grpc' -H 'te: trailers' --data-binary @- \
    "http://$1/grpc.health.v1.Health/Check" | od -An -tx1 | tr -d ' \n')
  [[ $reply == 00000000020801 ]]
}
# wait_serving ADDRESS PID LOG: until ADDRESS is SERVING (30 s at most);
# fails, with the log's end, when PID exits.
wait_serving() {
  for _ in $(seq 300); do
    serving "$1" && return 0
    if ! kill -0 "$2" 2>/dev/null; then
      echo "up.sh: the process serving $1 exited; end of $3:" >&2
      tail -n 20 "$3" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "up.sh: $1 is not SERVING after 30 s; see $3" >&2
  return 1
}
stop_pidfile() {
  local pidfile=$1 pid
  [[ -f $pidfile ]] || return 0
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 150); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  rm -f "$pidfile"
}

# Metrics: where townhalld has --metrics_listen (Prometheus text on
# /metrics), each process serves them on its own port.
METRICS=0
HELP=$("$TOWNHALLD" --helpfull 2>&1 || true)  # --helpfull exits 1
[[ $HELP == *--metrics_listen* ]] && METRICS=1
metrics_flag() {  # metrics_flag INDEX (1-based)
  ((METRICS)) && echo "--metrics_listen=127.0.0.1:$((METRICS_PORT + $1 - 1))"
  return 0
}

# Restart townhalld (and haproxy) so that they run the binary just built
# (and the replica count asked for).
stop_pidfile "$STATE/haproxy.pid"
stop_pidfile "$STATE/townhalld.pid"
for pidfile in "$STATE"/townhalld-*.pid; do
  stop_pidfile "$pidfile"
done
start_townhalld() {  # start_townhalld PORT PIDFILE LOG METRICS_INDEX
  local extra
  extra=$(metrics_flag "$4")
  # shellcheck disable=SC2086  # $extra: one flag or none
  nohup "$TOWNHALLD" \
    --flagfile="$ROOT/deploy/local/townhalld.flags" \
    --listen="127.0.0.1:$1" "$REDIS_FLAG" \
    --auth_key_file="$STATE/auth_keys" \
    --bootstrap_credential_file="$STATE/bootstrap_credential" $extra \
    >>"$3" 2>&1 &
  echo $! > "$2"
}
if ((REPLICAS == 1)); then
  start_townhalld "$GRPC_PORT" "$STATE/townhalld.pid" "$STATE/townhalld.log" 1
  SERVING_WHERE="townhall is running on 127.0.0.1:$GRPC_PORT ($REDIS_WHERE)."
  LOGS="$SHOWN/townhalld.log"
  METRICS_WHERE="http://127.0.0.1:$METRICS_PORT/metrics"
else
  command -v haproxy >/dev/null ||
    { echo "up.sh: --replicas needs haproxy (deploy/install-deps.sh installs it)" >&2; exit 1; }
  replicas=()
  for i in $(seq "$REPLICAS"); do
    port=$((REPLICA_PORT + i - 1))
    start_townhalld "$port" "$STATE/townhalld-$i.pid" "$STATE/townhalld-$i.log" "$i"
    replicas+=("127.0.0.1:$port")
  done
  for i in $(seq "$REPLICAS"); do
    wait_serving "${replicas[i - 1]}" "$(cat "$STATE/townhalld-$i.pid")" "$STATE/townhalld-$i.log"
  done
  "$ROOT/deploy/local/haproxy-config.sh" "127.0.0.1:$GRPC_PORT" "${replicas[@]}" \
    > "$STATE/haproxy.cfg"
  haproxy -c -q -f "$STATE/haproxy.cfg"
  nohup haproxy -db -f "$STATE/haproxy.cfg" >>"$STATE/haproxy.log" 2>&1 &
  echo $! > "$STATE/haproxy.pid"
  wait_serving "127.0.0.1:$GRPC_PORT" "$(cat "$STATE/haproxy.pid")" "$STATE/haproxy.log"
  SERVING_WHERE="townhall is running on 127.0.0.1:$GRPC_PORT: haproxy (HTTP/2) balancing
calls over $REPLICAS townhalld on ${replicas[*]} ($REDIS_WHERE).
Stop one (kill -TERM \$(cat $SHOWN/townhalld-2.pid)) and calls go to the others."
  LOGS="$SHOWN/townhalld-<i>.log, $SHOWN/haproxy.log"
  METRICS_WHERE="http://127.0.0.1:$METRICS_PORT/metrics ... :$((METRICS_PORT + REPLICAS - 1))/metrics (one per replica)"
fi
if ((METRICS)); then
  METRICS_LINE="Metrics (Prometheus text): $METRICS_WHERE"
else
  METRICS_LINE="Metrics: this townhalld has no --metrics_listen yet (docs/operations.md)"
fi
DASHBOARDS=""
[[ -f $ROOT/deploy/grafana/townhall.json ]] &&
  DASHBOARDS="Dashboards: deploy/grafana/townhall.json (Grafana), scrape config in deploy/prometheus/"

TOKEN=$("$BUILD_DIR/clients/cpp/townhall-load-demo" \
  --server="127.0.0.1:$GRPC_PORT" \
  --bootstrap_credential_file="$STATE/bootstrap_credential" \
  --directory_dir="$ROOT/tests/data" --state_dir="$STATE")
echo "$TOKEN" > "$STATE/organizer_token"
chmod 600 "$STATE/organizer_token"
LIVE=$(cat "$STATE/live_session_id" 2>/dev/null || echo "<live session id>")

cat <<MSG

$SERVING_WHERE
Demo tenant: mfa-uz. Logs: $LOGS. Stop: ./deploy/local/down.sh
$METRICS_LINE${DASHBOARDS:+
$DASHBOARDS}

An organizer token (valid 24 hours) is in $SHOWN/organizer_token:
export TOKEN=$TOKEN

List the sessions of the demo conference:
buf curl --protocol grpc --http2-prior-knowledge -H "Authorization: Bearer \$TOKEN" -d '{}' http://127.0.0.1:$GRPC_PORT/townhall.v1.SchedulingService/ListSessions

The live session's registrations (a moderator's view, with the join token
in $SHOWN/moderator_join_token; organizers see contact details, moderators
do not):
buf curl --protocol grpc --http2-prior-knowledge -H "Authorization: Bearer \$(cat $SHOWN/moderator_join_token)" -d '{"session_id":"$LIVE"}' http://127.0.0.1:$GRPC_PORT/townhall.v1.RegistrationService/ListRegistrations

Watch the live agenda (a snapshot, then every change; Ctrl-C to stop):
buf curl --protocol grpc --http2-prior-knowledge -H "Authorization: Bearer \$(cat $SHOWN/moderator_join_token)" -d '{"session_id":"$LIVE"}' http://127.0.0.1:$GRPC_PORT/townhall.v1.AgendaService/WatchAgenda

The demo directory (diaspora organizations, ministries, missions):
buf curl --protocol grpc --http2-prior-knowledge -H "Authorization: Bearer \$TOKEN" -d '{"country_code":"RU","page_size":5}' http://127.0.0.1:$GRPC_PORT/townhall.v1.RegistrationService/ListOrganizations

A portal's API key (read_schedule, manage_registrations) is in $SHOWN/portal_api_key.

Watch the live question queue (a snapshot with every question the moderator
may see, then each submission, vote count and moderator action; Ctrl-C to stop):
buf curl --protocol grpc --http2-prior-knowledge -H "Authorization: Bearer \$(cat $SHOWN/moderator_join_token)" -d '{"session_id":"$LIVE"}' http://127.0.0.1:$GRPC_PORT/townhall.v1.QuestionService/WatchQueue

The open questions, most votes first:
buf curl --protocol grpc --http2-prior-knowledge -H "Authorization: Bearer \$TOKEN" -d '{"session_id":"$LIVE","order":"ORDER_TOP","page_size":10}' http://127.0.0.1:$GRPC_PORT/townhall.v1.QuestionService/ListQuestions

Moderate it in the terminal console (approve, reject, pin, answer, merge the
near-duplicates; townhallctl is built with the rest):
$BUILD_DIR/clients/cpp/townhallctl/townhallctl --address=127.0.0.1:$GRPC_PORT --token_file=$SHOWN/moderator_join_token moderate $LIVE

The messenger bot example (clients/python/README.md), with its API key
(read_schedule, submit_questions) in $SHOWN/bot_api_key:
/usr/bin/python3 clients/python/townhall_bot.py --server=127.0.0.1:$GRPC_PORT --stubs=$BUILD_DIR/python --api-key-file=$SHOWN/bot_api_key --participant-file=$SHOWN/bot_participant_id --tz=Europe/Moscow /sessions /questions

List the services (server reflection):
buf curl --protocol grpc --http2-prior-knowledge --list-services http://127.0.0.1:$GRPC_PORT
MSG
