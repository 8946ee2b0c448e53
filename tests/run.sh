#!/usr/bin/env bash
# Runs every townhall test: installs what is missing, builds, starts a Redis
# of its own on a free port, runs ctest, and exits non-zero on any failure.
#   ./tests/run.sh            # everything
#   ./tests/run.sh -R auth    # extra arguments go to ctest
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}

./deploy/install-deps.sh

cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)"

# A private Redis for the tests that share one (others start their own).
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
REDIS_PORT=$(free_port)
REDIS_DIR=$(mktemp -d)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
  --dir "$REDIS_DIR" --daemonize yes --pidfile "$REDIS_DIR/redis.pid" \
  --logfile "$REDIS_DIR/redis.log" --enable-debug-command local
cleanup() {
  [[ -f $REDIS_DIR/redis.pid ]] && kill "$(cat "$REDIS_DIR/redis.pid")" 2>/dev/null || true
  rm -rf "$REDIS_DIR"
}
trap cleanup EXIT
for _ in $(seq 50); do
  redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
  sleep 0.1
done
export TOWNHALL_TEST_REDIS="127.0.0.1:$REDIS_PORT"

cd "$BUILD_DIR"
ctest --output-on-failure -j "$(nproc)" "$@"
