#!/usr/bin/env bash
# Redis CPU per vote of services/questions/lua/vote.lua alone, on an idle
# private Redis (deploy/local/redis.conf, AOF written but not fsynced), to
# compare script or Redis-configuration changes without townhalld, gRPC or
# the load generator in the measurement.
#
#   bench/vote_script_bench.sh                 # 20000 batches of 11 votes
#   BATCHES=50000 bench/vote_script_bench.sh
#   REDIS_FLAGS="--hash-max-listpack-entries 512" bench/vote_script_bench.sh
#   SCRIPT=/tmp/my_vote.lua bench/vote_script_bench.sh   # a variant (the
#                                                        # whole script)
#
# The session holds QUESTIONS approved questions (ids q000000000000...);
# each batch is one EVALSHA of 11 votes by random voters (redis-benchmark's
# __rand_int__, so almost every vote is new) on random questions, as
# townhalld's RedisEventLoop::EvalBatched sends them. Prints µs per vote
# (Redis's own usec_per_call of EVALSHA / 11) and the commands the script
# called, from INFO commandstats.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BATCHES=${BATCHES:-20000}
QUESTIONS=${QUESTIONS:-500}
REDIS_FLAGS=${REDIS_FLAGS:-}
WORK=$(mktemp -d)
SCRIPT=${SCRIPT:-$WORK/vote.lua}
VOTES_PER_BATCH=11

cleanup() {
  [[ -n ${REDIS_PID:-} ]] && kill "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

# The script as townhalld embeds it (services/questions/CMakeLists.txt).
[[ -f $SCRIPT ]] || cat "$ROOT/services/common/lua/prelude.lua" \
  "$ROOT/services/questions/lua/queue_core.lua" \
  "$ROOT/services/questions/lua/vote.lua" > "$SCRIPT"

PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# shellcheck disable=SC2086  # REDIS_FLAGS is a list of flags
redis-server "$ROOT/deploy/local/redis.conf" --port "$PORT" --dir "$WORK" \
  --appendfsync no --logfile "$WORK/redis.log" $REDIS_FLAGS &
REDIS_PID=$!
for _ in $(seq 50); do
  redis-cli -p "$PORT" ping >/dev/null 2>&1 && break
  sleep 0.1
done

PREFIX='th:{s:bench:vote}:'
{
  for ((i = 0; i < QUESTIONS; i++)); do
    id=$(printf 'q%012d' "$i")
    echo "HSET ${PREFIX}q:$id id $id session vote text \"question $i\" orig \"question $i\" match \"question $i\" author a$i org o lang en anon 0 status APPROVED votes 0 seq $((i + 1)) trend 0 created 2026-12-02T00:00:00Z updated 2026-12-02T00:00:00Z"
    echo "ZADD ${PREFIX}top 0 $id"
    echo "ZADD ${PREFIX}trend 0 $id"
  done
  echo "HSET ${PREFIX}settings mode MODERATION_MODE_POST vpm 10000"
} | redis-cli -p "$PORT" >/dev/null
SHA=$(redis-cli -p "$PORT" script load "$(cat "$SCRIPT")")

args=()
for ((j = 0; j < VOTES_PER_BATCH; j++)); do
  # id, voter, now_ms, up, rate_limited, now (vote.lua's ARGV per call).
  args+=(q__rand_int__ v__rand_int____rand_int____rand_int__ 1796169600000 1 1
         2026-12-02T00:00:00Z)
done
redis-cli -p "$PORT" config resetstat >/dev/null
redis-benchmark -p "$PORT" -n "$BATCHES" -c 1 -r "$QUESTIONS" -q \
  evalsha "$SHA" 1 "$PREFIX" "${args[@]}" >/dev/null 2>&1

stats=$(redis-cli -p "$PORT" info commandstats)
per_batch=$(sed -n 's/^cmdstat_evalsha:.*usec_per_call=\([0-9.]*\).*/\1/p' <<<"$stats")
failed=$(sed -n 's/^cmdstat_evalsha:.*failed_calls=\([0-9]*\).*/\1/p' <<<"$stats")
if [[ -z $per_batch || $failed != 0 ]]; then
  echo "vote_script_bench: EVALSHA failed ($failed failed calls)" >&2
  exit 1
fi
awk -v b="$per_batch" -v n="$VOTES_PER_BATCH" -v batches="$BATCHES" \
  'BEGIN { printf "%.2f us per vote (%.1f us per batch of %d, %d batches)\n", b / n, b, n, batches }'
grep -E '^cmdstat_(h|z|x|incr)' <<<"$stats" | grep -v evalsha |
  sed 's/^cmdstat_\([a-z]*\):calls=\([0-9]*\),usec=[0-9]*,usec_per_call=\([0-9.]*\).*/  \1: \2 calls, \3 us each/'
echo "  voters hash encoding: $(redis-cli -p "$PORT" object encoding "${PREFIX}q:q000000000007:voters")," \
  "$(redis-cli -p "$PORT" hlen "${PREFIX}q:q000000000007:voters") voters," \
  "$(redis-cli -p "$PORT" memory usage "${PREFIX}q:q000000000007:voters") bytes"
