#!/usr/bin/env bash
# Starts a local townhall: installs what is missing, builds, starts Redis and
# townhalld, loads the demo conference and prints how to connect.
# State (keys, credentials, Redis data, logs) lives in .local/ (not in git).
# Run it again to rebuild and restart; data is kept.
#
#   ./deploy/local/up.sh            # one Redis (.local/redis, on disk)
#   ./deploy/local/up.sh --cluster  # a local Redis Cluster, 3 masters +
#                                   # 3 replicas (tests/start_cluster.sh,
#                                   # in memory: reused while it runs)
set -euo pipefail
CLUSTER=0
for arg in "$@"; do
  case $arg in
    --cluster) CLUSTER=1 ;;
    *) echo "usage: $0 [--cluster]" >&2; exit 2 ;;
  esac
done
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
STATE=$ROOT/.local
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
REDIS_PORT=${TOWNHALL_REDIS_PORT:-6390}
GRPC_PORT=${TOWNHALL_PORT:-50051}
METRICS_PORT=${TOWNHALL_METRICS_PORT:-9464}

./deploy/install-deps.sh
cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)"

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

# Restart townhalld so that it runs the binary just built.
if [[ -f $STATE/townhalld.pid ]] && kill -0 "$(cat "$STATE/townhalld.pid")" 2>/dev/null; then
  kill -TERM "$(cat "$STATE/townhalld.pid")"
  for _ in $(seq 150); do
    kill -0 "$(cat "$STATE/townhalld.pid")" 2>/dev/null || break
    sleep 0.1
  done
fi
nohup "$BUILD_DIR/services/townhalld/townhalld" \
  --flagfile="$ROOT/deploy/local/townhalld.flags" \
  --listen="127.0.0.1:$GRPC_PORT" "$REDIS_FLAG" \
  --metrics_listen="127.0.0.1:$METRICS_PORT" \
  --auth_key_file="$STATE/auth_keys" \
  --bootstrap_credential_file="$STATE/bootstrap_credential" \
  >>"$STATE/townhalld.log" 2>&1 &
echo $! > "$STATE/townhalld.pid"

TOKEN=$("$BUILD_DIR/clients/cpp/townhall-load-demo" \
  --server="127.0.0.1:$GRPC_PORT" \
  --bootstrap_credential_file="$STATE/bootstrap_credential" \
  --directory_dir="$ROOT/tests/data" --state_dir="$STATE")
echo "$TOKEN" > "$STATE/organizer_token"
chmod 600 "$STATE/organizer_token"
LIVE=$(cat "$STATE/live_session_id" 2>/dev/null || echo "<live session id>")

cat <<MSG

townhall is running on 127.0.0.1:$GRPC_PORT ($REDIS_WHERE).
Prometheus metrics: http://127.0.0.1:$METRICS_PORT/metrics
Demo tenant: mfa-uz. Logs: $STATE/townhalld.log. Stop: ./deploy/local/down.sh

An organizer token (valid 24 hours) is in .local/organizer_token:
export TOKEN=$TOKEN

List the sessions of the demo conference:
buf curl --protocol grpc --http2-prior-knowledge -H "Authorization: Bearer \$TOKEN" -d '{}' http://127.0.0.1:$GRPC_PORT/townhall.v1.SchedulingService/ListSessions

The live session's registrations (a moderator's view, with the join token
in .local/moderator_join_token; organizers see contact details, moderators
do not):
buf curl --protocol grpc --http2-prior-knowledge -H "Authorization: Bearer \$(cat .local/moderator_join_token)" -d '{"session_id":"$LIVE"}' http://127.0.0.1:$GRPC_PORT/townhall.v1.RegistrationService/ListRegistrations

Watch the live agenda (a snapshot, then every change; Ctrl-C to stop):
buf curl --protocol grpc --http2-prior-knowledge -H "Authorization: Bearer \$(cat .local/moderator_join_token)" -d '{"session_id":"$LIVE"}' http://127.0.0.1:$GRPC_PORT/townhall.v1.AgendaService/WatchAgenda

The demo directory (diaspora organizations, ministries, missions):
buf curl --protocol grpc --http2-prior-knowledge -H "Authorization: Bearer \$TOKEN" -d '{"country_code":"RU","page_size":5}' http://127.0.0.1:$GRPC_PORT/townhall.v1.RegistrationService/ListOrganizations

A portal's API key (read_schedule, manage_registrations) is in .local/portal_api_key.

Watch the live question queue (a snapshot with every question the moderator
may see, then each submission, vote count and moderator action; Ctrl-C to stop):
buf curl --protocol grpc --http2-prior-knowledge -H "Authorization: Bearer \$(cat .local/moderator_join_token)" -d '{"session_id":"$LIVE"}' http://127.0.0.1:$GRPC_PORT/townhall.v1.QuestionService/WatchQueue

The open questions, most votes first:
buf curl --protocol grpc --http2-prior-knowledge -H "Authorization: Bearer \$TOKEN" -d '{"session_id":"$LIVE","order":"ORDER_TOP","page_size":10}' http://127.0.0.1:$GRPC_PORT/townhall.v1.QuestionService/ListQuestions

Moderate it in the terminal console (approve, reject, pin, answer, merge the
near-duplicates; townhallctl is built with the rest):
$BUILD_DIR/clients/cpp/townhallctl/townhallctl --address=127.0.0.1:$GRPC_PORT --token_file=.local/moderator_join_token moderate $LIVE

The messenger bot example (clients/python/README.md), with its API key
(read_schedule, submit_questions) in .local/bot_api_key:
/usr/bin/python3 clients/python/townhall_bot.py --server=127.0.0.1:$GRPC_PORT --stubs=$BUILD_DIR/python --api-key-file=.local/bot_api_key --participant-file=.local/bot_participant_id --tz=Europe/Moscow /sessions /questions

List the services (server reflection):
buf curl --protocol grpc --http2-prior-knowledge --list-services http://127.0.0.1:$GRPC_PORT
MSG
