#!/usr/bin/env bash
# End-to-end: townhalld as seen by `buf curl` (a client with no .proto files,
# relying on server reflection), and grpc.health.v1 following Redis.
#
#   test_reflection_buf.sh reflection   # list services, JSON calls, auth errors,
#                                       # health through reflection alone
#   test_reflection_buf.sh health       # health per service; NOT_SERVING while
#                                       # Redis is down, SERVING once it is back
#   test_reflection_buf.sh              # both
#
# Needs TOWNHALLD and TOWNHALL_PYTHON_DIR (see townhalld_fixture.py); honours
# TOWNHALL_TEST_REDIS for the parts that need a working Redis. Exits 77
# (skipped) when buf is not installed.
set -uo pipefail

MODE=${1:-all}
case $MODE in reflection | health | all) ;; *)
  echo "usage: $0 [reflection|health|all]" >&2
  exit 2
  ;;
esac
BUF=${BUF:-$(command -v buf || true)}
if [[ -z $BUF ]]; then
  echo "SKIP: buf is not installed (deploy/install-deps.sh installs it from npm)"
  exit 77
fi
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3 # Debian's grpcio lives here (see docs: known traps)
FIXTURE=$HERE/townhalld_fixture.py
command -v redis-server >/dev/null || { echo "FAIL: redis-server missing" >&2; exit 1; }

WORK=$(mktemp -d -t th-e2e-buf.XXXXXX)
export BUF_CACHE_DIR=$WORK/buf-cache
FIXTURE_PIDS=()
cleanup() {
  local pid
  for pid in "${FIXTURE_PIDS[@]}"; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

FAILURES=0
ok() { echo "ok: $*"; }
fail() {
  echo "FAIL: $*" >&2
  FAILURES=$((FAILURES + 1))
}

# Starts the python fixture in the background (it stops its townhalld and
# Redis on SIGTERM or when this shell dies); sets FIXTURE_PID and the
# TOWNHALL_* variables it prints. $1: a name for its files; further args go
# to the fixture.
start_fixture() {
  local name=$1
  shift
  "$PY" "$FIXTURE" --print-env "$@" >"$WORK/$name.env" 2>"$WORK/$name.err" &
  local pid=$!
  FIXTURE_PIDS+=("$pid")
  local i
  for ((i = 0; i < 300; i++)); do
    grep -qx READY "$WORK/$name.env" 2>/dev/null && break
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "FAIL: fixture $name exited:" >&2
      cat "$WORK/$name.err" >&2
      exit 1
    fi
    sleep 0.1
  done
  if ! grep -qx READY "$WORK/$name.env"; then
    echo "FAIL: fixture $name not ready after 30s:" >&2
    cat "$WORK/$name.err" >&2
    exit 1
  fi
  local key value
  while IFS='=' read -r key value; do
    [[ $key == TOWNHALL_* ]] && printf -v "$key" '%s' "$value"
  done <"$WORK/$name.env"
  FIXTURE_PID=$pid
}

# Stops a fixture (and its townhalld and Redis). $1: its FIXTURE_PID.
stop_fixture() {
  kill "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}

# buf curl over plaintext HTTP/2 with gRPC framing; output in $OUT, exit code
# in $RC.
bufcurl() {
  OUT=$("$BUF" curl --protocol grpc --http2-prior-knowledge --connect-timeout 5 \
    --timeout 15s "$@" 2>&1)
  RC=$?
}

# The standard health.proto, for the checks that must not depend on reflection.
HEALTH_SCHEMA=$WORK/health-schema
mkdir -p "$HEALTH_SCHEMA/grpc/health/v1"
cat >"$HEALTH_SCHEMA/grpc/health/v1/health.proto" <<'EOF'
syntax = "proto3";
package grpc.health.v1;
message HealthCheckRequest { string service = 1; }
message HealthCheckResponse {
  enum ServingStatus { UNKNOWN = 0; SERVING = 1; NOT_SERVING = 2; SERVICE_UNKNOWN = 3; }
  ServingStatus status = 1;
}
service Health {
  rpc Check(HealthCheckRequest) returns (HealthCheckResponse);
  rpc Watch(HealthCheckRequest) returns (stream HealthCheckResponse);
}
EOF

# Prints the status ("SERVING", "NOT_SERVING", ...) of one service, or the
# error. $1: address, $2: service name.
health_status() {
  bufcurl --schema "$HEALTH_SCHEMA" -d "{\"service\":\"$2\"}" \
    "http://$1/grpc.health.v1.Health/Check"
  if ((RC == 0)); then
    "$PY" -c 'import json,sys; print(json.loads(sys.stdin.read()).get("status","UNKNOWN"))' <<<"$OUT"
  else
    echo "error($RC): $OUT"
  fi
}

# Waits up to $3 seconds for service $2 at $1 to report status $4. Sets
# WAITED to the seconds it took.
wait_health() {
  local address=$1 service=$2 limit=$3 want=$4 start now status
  start=$(date +%s.%N)
  while true; do
    status=$(health_status "$address" "$service")
    now=$(date +%s.%N)
    WAITED=$("$PY" -c "print(round($now - $start, 1))")
    [[ $status == "$want" ]] && return 0
    if "$PY" -c "import sys; sys.exit(0 if $now - $start > $limit else 1)"; then
      LAST_STATUS=$status
      return 1
    fi
    sleep 0.2
  done
}

json_get() { # $1: python expression on `d` (the parsed JSON of $OUT)
  "$PY" -c "import json,sys; d=json.loads(sys.stdin.read()); print($1)" <<<"$OUT"
}

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# ---------------------------------------------------------------------------
run_reflection() {
  echo "== reflection"
  start_fixture main
  local url=http://$TOWNHALL_ADDR auth="Authorization: Bearer $TOWNHALL_TOKEN"

  bufcurl --list-services "$url"
  if ((RC != 0)); then
    fail "--list-services exited $RC: $OUT"
  else
    local svc
    for svc in townhall.v1.SchedulingService townhall.v1.TenantService; do
      if grep -qx "$svc" <<<"$OUT"; then ok "reflection lists $svc"; else
        fail "reflection does not list $svc; got: $OUT"
      fi
    done
  fi

  # The architecture promises health + reflection so that buf curl, grpcurl
  # and grpc_cli work without .proto files: every listed service, health
  # included, must be resolvable through reflection.
  local hint="(reflection lists grpc.health.v1.Health but cannot describe it: its descriptor is not linked into townhalld)"
  bufcurl --list-methods "$url"
  if ((RC == 0)) && grep -qx "townhall.v1.SchedulingService/ExportCalendar" <<<"$OUT" &&
    grep -qx "grpc.health.v1.Health/Check" <<<"$OUT"; then
    ok "--list-methods describes every service"
  else
    fail "--list-methods ($RC): $OUT $hint"
  fi
  bufcurl -d '{"service":"townhall.v1.SchedulingService"}' \
    "$url/grpc.health.v1.Health/Check"
  if ((RC == 0)) && [[ $(json_get 'd.get("status")') == SERVING ]]; then
    ok "Health/Check through reflection: SERVING"
  else
    fail "Health/Check through reflection alone ($RC): $OUT $hint"
  fi

  # A JSON round trip through the reflected schema: create, then list.
  bufcurl -H "$auth" -d '{"session": {"title": "Ochiq eshiklar kuni — Open Day",
      "startTime": "2027-03-13T09:00:00Z", "duration": "10800s",
      "timeZone": "Europe/Berlin", "languages": ["uz", "ru", "de"]}, "publish": true}' \
    "$url/townhall.v1.SchedulingService/CreateSession"
  local created=""
  if ((RC == 0)); then
    created=$(json_get 'd["session"]["id"]')
    ok "CreateSession with JSON: $created"
  else
    fail "CreateSession with JSON ($RC): $OUT"
  fi

  bufcurl -H "$auth" -d '{}' "$url/townhall.v1.SchedulingService/ListSessions"
  if ((RC != 0)); then
    fail "ListSessions with token exited $RC: $OUT"
  elif ! json_get '"json"' >/dev/null 2>&1; then
    fail "ListSessions did not print JSON: $OUT"
  else
    local got
    got=$(json_get '[(s["id"], s["title"], s["state"], s["startTime"], s["timeZone"]) for s in d.get("sessions", [])]')
    local want="[('$created', 'Ochiq eshiklar kuni — Open Day', 'SESSION_STATE_SCHEDULED', '2027-03-13T09:00:00Z', 'Europe/Berlin')]"
    if [[ $got == "$want" ]]; then ok "ListSessions with token: JSON with the session"; else
      fail "ListSessions JSON: want $want, got $got (raw: $OUT)"
    fi
  fi

  bufcurl -d '{}' "$url/townhall.v1.SchedulingService/ListSessions"
  if ((RC != 0)) && grep -q '"unauthenticated"' <<<"$OUT"; then
    ok "ListSessions without token: unauthenticated (exit $RC)"
  else
    fail "ListSessions without token: want non-zero exit and unauthenticated, got $RC: $OUT"
  fi

  bufcurl -H "Authorization: Bearer ${TOWNHALL_TOKEN%?????}xxxxx" -d '{}' \
    "$url/townhall.v1.SchedulingService/ListSessions"
  if ((RC != 0)) && grep -q '"unauthenticated"' <<<"$OUT"; then
    ok "ListSessions with a forged signature: unauthenticated"
  else
    fail "ListSessions with a forged signature: got $RC: $OUT"
  fi
  stop_fixture "$FIXTURE_PID"
}

# ---------------------------------------------------------------------------
run_health() {
  echo "== health"
  start_fixture main
  local svc status
  for svc in "" townhall.v1.SchedulingService townhall.v1.TenantService; do
    status=$(health_status "$TOWNHALL_ADDR" "$svc")
    if [[ $status == SERVING ]]; then ok "health '$svc': SERVING"; else
      fail "health '$svc': want SERVING, got $status"
    fi
  done
  status=$(health_status "$TOWNHALL_ADDR" no.such.Service)
  if [[ $status == error* ]] && grep -q not_found <<<"$status"; then
    ok "health of an unknown service: not_found"
  else
    fail "health of an unknown service: want not_found, got $status"
  fi
  stop_fixture "$FIXTURE_PID"

  # Redis down from the start: nothing listens on $port yet.
  local port
  port=$(free_port)
  start_fixture down --redis="127.0.0.1:$port" --wait-for=any --no-tenant
  local server=$FIXTURE_PID addr=$TOWNHALL_ADDR boot=$TOWNHALL_BOOTSTRAP_CREDENTIAL
  for svc in "" townhall.v1.SchedulingService; do
    status=$(health_status "$addr" "$svc")
    if [[ $status == NOT_SERVING ]]; then ok "Redis down: health '$svc' NOT_SERVING"; else
      fail "Redis down: health '$svc': want NOT_SERVING, got $status"
    fi
  done
  bufcurl -H "Authorization: Bearer $boot" -d '{"tenantId": "e2e-nobody"}' \
    "http://$addr/townhall.v1.TenantService/GetTenant"
  if ((RC != 0)) && grep -q '"unavailable"' <<<"$OUT"; then
    ok "Redis down: a call answers unavailable"
  else
    fail "Redis down: GetTenant should answer unavailable, got $RC: $OUT"
  fi

  local redis
  start_fixture redis1 --redis-only="$port"
  redis=$FIXTURE_PID
  if wait_health "$addr" townhall.v1.SchedulingService 5 SERVING; then
    ok "Redis started: SERVING after ${WAITED}s"
  else
    fail "Redis started: still '$LAST_STATUS' after ${WAITED}s"
  fi
  # The request path (a pool of connections that failed at start-up) must
  # recover too, not only the health probe.
  bufcurl -H "Authorization: Bearer $boot" -d '{"tenantId": "e2e-nobody"}' \
    "http://$addr/townhall.v1.TenantService/GetTenant"
  if ((RC != 0)) && grep -q '"not_found"' <<<"$OUT"; then
    ok "Redis up: GetTenant reaches Redis (not_found)"
  else
    fail "Redis up: GetTenant should answer not_found, got $RC: $OUT"
  fi

  # Lost and back again.
  stop_fixture "$redis"
  if wait_health "$addr" townhall.v1.SchedulingService 5 NOT_SERVING; then
    ok "Redis stopped: NOT_SERVING after ${WAITED}s"
  else
    fail "Redis stopped: still '$LAST_STATUS' after ${WAITED}s"
  fi
  start_fixture redis2 --redis-only="$port"
  redis=$FIXTURE_PID
  if wait_health "$addr" townhall.v1.SchedulingService 5 SERVING; then
    ok "Redis restarted: SERVING after ${WAITED}s"
  else
    fail "Redis restarted: still '$LAST_STATUS' after ${WAITED}s"
  fi
  bufcurl -H "Authorization: Bearer $boot" -d '{"tenantId": "e2e-nobody"}' \
    "http://$addr/townhall.v1.TenantService/GetTenant"
  if ((RC != 0)) && grep -q '"not_found"' <<<"$OUT"; then
    ok "Redis restarted: GetTenant reaches Redis again"
  else
    fail "Redis restarted: GetTenant should answer not_found, got $RC: $OUT"
  fi
  stop_fixture "$server"
  stop_fixture "$redis"
}

case $MODE in
reflection) run_reflection ;;
health) run_health ;;
all)
  run_reflection
  run_health
  ;;
esac

if ((FAILURES > 0)); then
  echo "$FAILURES check(s) failed"
  exit 1
fi
echo "all checks passed"
