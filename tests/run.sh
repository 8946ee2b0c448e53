#!/usr/bin/env bash
# Runs every townhall test: installs what is missing, builds, starts a Redis
# of its own on a free port, runs ctest, and exits non-zero on any failure.
#   ./tests/run.sh                  # everything (build/)
#   ./tests/run.sh -R auth          # extra arguments go to ctest
#   ./tests/run.sh --no-cluster     # skip the second pass on a Redis Cluster
#   ./tests/run.sh --sanitize       # everything under ASan + LSan + UBSan
#                                   # (gcc, build-sanitize/)
#   ./tests/run.sh --fuzz=SECONDS   # each libFuzzer target for SECONDS, after
#                                   # replaying its regressions (clang,
#                                   # build-fuzz/); names after it pick
#                                   # targets: --fuzz=60 csv jwt
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

MODE=normal
FUZZ_SECONDS=0
CLUSTER=1
while (($#)); do
  case "$1" in
    --sanitize) MODE=sanitize; shift ;;
    --no-cluster) CLUSTER=0; shift ;;
    --fuzz=*)
      MODE=fuzz; FUZZ_SECONDS=${1#--fuzz=}; shift
      [[ $FUZZ_SECONDS =~ ^[0-9]+$ ]] || { echo "run.sh: --fuzz=SECONDS wants a number" >&2; exit 2; }
      ;;
    *) break ;;
  esac
done
# The cluster pass doubles the integration and e2e time; under sanitizers
# (a slow build, CI's budget) only the standalone pass runs.
[[ $MODE == sanitize ]] && CLUSTER=0

./deploy/install-deps.sh

# Instrumented builds are full builds with other flags: two jobs at most,
# the machine is shared.
JOBS=$(nproc)
((JOBS > 2)) && [[ $MODE != normal ]] && JOBS=2

# ---- fuzzing --------------------------------------------------------------
if [[ $MODE == fuzz ]]; then
  BUILD_DIR=${BUILD_DIR:-$ROOT/build-fuzz}
  FUZZ_DIR=$ROOT/tests/fuzz
  CC=clang-14 CXX=clang++-14 cmake -S "$ROOT" -B "$BUILD_DIR" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTOWNHALL_FUZZ=ON >/dev/null
  cmake --build "$BUILD_DIR" -j "$JOBS" --target townhall_fuzzers
  targets=("$@")
  if ((${#targets[@]} == 0)); then
    for f in "$FUZZ_DIR"/*_fuzzer.cc; do
      name=$(basename "$f" _fuzzer.cc)
      targets+=("$name")
    done
  fi
  # A crash, a leak, UB, an input slower than -timeout or memory past
  # -rss_limit_mb ends the target with a non-zero exit and leaves the input
  # in artifacts/<name>/; keep it in tests/fuzz/regressions/<name>/ once fixed.
  export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
  fuzz_flags=(-timeout=10 -rss_limit_mb=2048 -detect_leaks=1 -print_final_stats=1)
  failed=()
  for name in "${targets[@]}"; do
    bin=$BUILD_DIR/tests/fuzz/${name}_fuzzer
    artifacts=$BUILD_DIR/fuzz-artifacts/$name
    work=$BUILD_DIR/fuzz-corpus/$name  # new inputs go here, not into the repo
    mkdir -p "$artifacts" "$work"
    mapfile -t regressions < <(find "$FUZZ_DIR/regressions/$name" -type f ! -name '.*' 2>/dev/null | sort)
    echo "== fuzz $name: ${#regressions[@]} regression inputs, then ${FUZZ_SECONDS}s"
    if ((${#regressions[@]})) &&
      ! "$bin" "${fuzz_flags[@]}" -artifact_prefix="$artifacts/" "${regressions[@]}"; then
      failed+=("$name (regressions)")
      continue
    fi
    if ((FUZZ_SECONDS > 0)) &&
      ! "$bin" "${fuzz_flags[@]}" -max_total_time="$FUZZ_SECONDS" \
        -artifact_prefix="$artifacts/" "$work" "$FUZZ_DIR/corpus/$name"; then
      failed+=("$name (see $artifacts)")
    fi
  done
  if ((${#failed[@]})); then
    echo "fuzz: FAILED: ${failed[*]}" >&2
    exit 1
  fi
  echo "fuzz: ${#targets[@]} targets passed"
  exit 0
fi

# ---- the suite, plain or under sanitizers ---------------------------------
SKIP_TESTS=()
if [[ $MODE == sanitize ]]; then
  BUILD_DIR=${BUILD_DIR:-$ROOT/build-sanitize}
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DTOWNHALL_SANITIZE=ON >/dev/null
  # Every instrumented process, including a townhalld that a Python e2e test
  # starts and whose exit code it does not look at, writes its report to
  # REPORT_DIR; any report there fails the run.
  REPORT_DIR=$BUILD_DIR/sanitizer-reports
  rm -rf "$REPORT_DIR" && mkdir -p "$REPORT_DIR"
  export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:log_path=$REPORT_DIR/asan"
  export LSAN_OPTIONS="suppressions=$ROOT/tests/sanitizer/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$REPORT_DIR/ubsan"
  # The calendar property test on its must-have zones only: a sanitized
  # townhalld is several times slower, and the zones are the same code.
  export TOWNHALL_ZONE_SAMPLE=16
  # Left to the normal pass, where they already ran: the deploy checks
  # (manifests, overlays, the Dockerfile compares the image's runtime
  # packages with `ldd` of the plain townhalld it ships), buf lint,
  # promtool, and the docs' examples (the CLI and the API as documented;
  # the same RPCs run sanitized in the e2e and integration tests). None of
  # them runs code these builds instrument that other tests do not.
  SKIP_TESTS=(-E '^(deploy_.*|buf_lint|prometheus_rules|e2e_docs_examples)$')
else
  BUILD_DIR=${BUILD_DIR:-$ROOT/build}
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BUILD_DIR" -j "$JOBS"

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
  local pidfile pid pids=()
  for pidfile in "$REDIS_DIR"/redis.pid "$REDIS_DIR"/cluster/*/redis.pid; do
    [[ -f $pidfile ]] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null && pids+=("$pid")
  done
  # A node still exiting writes into its dir (nodes.conf, its log): wait
  # for them before removing it, or rm fails and fails the run.
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  done
  rm -rf "$REDIS_DIR" || true
}
trap cleanup EXIT
for _ in $(seq 50); do
  redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
  sleep 0.1
done
export TOWNHALL_TEST_REDIS="127.0.0.1:$REDIS_PORT"

cd "$BUILD_DIR"
status=0
ctest --output-on-failure -j "$(nproc)" "${SKIP_TESTS[@]}" "$@" || status=$?

# Second pass: the tests on the shared Redis (label `cluster`) against a
# 3-master, 3-replica Redis Cluster (TOWNHALL_TEST_REDIS_CLUSTER: test
# servers, townhalld processes and the tests' own Redis reads go there).
if ((CLUSTER)); then
  started=$SECONDS
  if seeds=$("$ROOT/tests/start_cluster.sh" "$REDIS_DIR/cluster"); then
    TOWNHALL_TEST_REDIS_CLUSTER=$seeds ctest --output-on-failure \
      -j "$(nproc)" -L cluster "$@" || status=$?
  else
    echo "run.sh: the Redis Cluster did not start" >&2
    status=1
  fi
  echo "cluster pass: $((SECONDS - started)) s"
fi
if [[ $MODE == sanitize ]] && compgen -G "$REPORT_DIR/*" >/dev/null; then
  for report in "$REPORT_DIR"/*; do
    echo "==== sanitizer report $(basename "$report")" >&2
    cat "$report" >&2
  done
  echo "sanitizers: $(ls "$REPORT_DIR" | wc -l) report(s) in $REPORT_DIR" >&2
  status=1
fi
exit "$status"
