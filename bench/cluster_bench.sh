#!/usr/bin/env bash
# Redis Cluster against a single Redis on the same machine, in one run:
# alternates bench/run_bench.sh in three modes, ALTERNATIONS times,
#
#   standalone    one Redis (deploy/local/redis.conf)
#   cluster       3 masters + 3 replicas (REDIS_MODE=cluster)
#   cluster_wait  the same with --redis_wait_replicas=1 (WAIT after writes)
#
# each with RPCS="ping upvote get_session ping", one round, no WatchQueue,
# votes spread over VOTE_SESSIONS sessions. Ping does not touch Redis, so
# each RPC's ratio to the Ping of its own run is the baseline-free figure;
# the table shows its median per mode and the ratio of those medians to
# standalone's.
#
#   bench/cluster_bench.sh
#   ALTERNATIONS=5 DURATION=10s bench/cluster_bench.sh
#   MODES="standalone cluster" bench/cluster_bench.sh
#
# Every run_bench.sh output goes to $OUT_DIR (a temp dir, kept and named at
# the end): the last cluster run's tables have the masters' shares of the
# commands and where the vote sessions are.
set -euo pipefail
cd "$(dirname "$0")/.."
ALTERNATIONS=${ALTERNATIONS:-3}
MODES=${MODES:-standalone cluster cluster_wait}
export DURATION=${DURATION:-5s}
export VOTE_SESSIONS=${VOTE_SESSIONS:-30}
export PARTICIPANTS=${PARTICIPANTS:-300}
export RPCS="ping upvote get_session ping" ROUNDS=1 WATCHERS= REDIS_BENCHMARK=0
OUT_DIR=${OUT_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/townhall-cluster-bench.XXXXXX")}
SERVER_FLAGS=${SERVER_FLAGS:-}

log() { echo "cluster_bench: $*" >&2; }
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
skip_build=0
for a in $(seq "$ALTERNATIONS"); do
  for mode in $MODES; do
    case $mode in
      standalone) redis_mode=standalone; flags=$SERVER_FLAGS ;;
      cluster) redis_mode=cluster; flags=$SERVER_FLAGS ;;
      cluster_wait) redis_mode=cluster; flags="$SERVER_FLAGS --redis_wait_replicas=1" ;;
      *) log "unknown mode $mode"; exit 2 ;;
    esac
    log "alternation $a: $mode (load $(cut -d' ' -f1-3 /proc/loadavg))"
    REDIS_MODE=$redis_mode SERVER_FLAGS=$flags SKIP_BUILD=$skip_build \
      RESULTS_JSON="$OUT_DIR/$a.$mode.jsonl" bench/run_bench.sh >"$OUT_DIR/$a.$mode.md" 2>"$OUT_DIR/$a.$mode.log" ||
      { log "run_bench.sh failed:"; tail -30 "$OUT_DIR/$a.$mode.log" >&2; exit 1; }
    skip_build=1
    jq -c --arg mode "$mode" --argjson alt "$a" '. + {mode: $mode, alternation: $alt}' \
      "$OUT_DIR/$a.$mode.jsonl" >>"$OUT_DIR/all.jsonl"
  done
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

jq -rs --arg modes "$MODES" '
  def median: sort | if length % 2 == 1 then .[length / 2 | floor]
                     else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  def r2: (. * 100 | round) / 100;
  # per run: each RPC throughput over the mean of the run'"'"'s Ping runs
  (group_by([.mode, .alternation]) | map(
     (map(select(.rpc == "ping") | .throughput) | add / length) as $ping
     | map(. + {ratio: (.throughput / $ping), ping: $ping})) | add) as $runs
  | ($modes | split(" ")) as $ms
  | [$runs[] | select(.rpc != "ping") | .rpc] | unique as $rpcs
  | (reduce ($runs[] | select(.rpc != "ping")) as $r ({};
       .[$r.rpc][$r.mode] += [$r.ratio])) as $ratios
  | (reduce ($runs[] | select(.rpc == "ping" and .step == 1)) as $r ({};
       .[$r.mode] += [$r.ping])) as $pings
  | "| RPC | " + ($ms | map("ratio to Ping, \(.)") | join(" | ")) + " | " +
      ($ms[1:] | map("\(.) / standalone") | join(" | ")) + " |",
    "|---|" + ($ms | map("---:") | join("|")) + "|" + ($ms[1:] | map("---:") | join("|")) + "|",
    ($rpcs[] as $rpc |
      "| \($rpc) | " + ($ms | map($ratios[$rpc][.] | median | r2 | tostring) | join(" | ")) + " | " +
      ($ms[1:] | map(($ratios[$rpc][.] | median) / ($ratios[$rpc][$ms[0]] | median) | r2 | tostring) | join(" | ")) + " |"),
    "",
    "Medians over \($runs | map(.alternation) | unique | length) alternation(s). Per run, ratio to Ping (in order):",
    ($rpcs[] as $rpc | $ms[] as $m | "- \($rpc), \($m): \($ratios[$rpc][$m] | map(r2 | tostring) | join(" / "))"),
    "Ping (ok/s, mean of the run'"'"'s two): " + ($ms | map("\(.) \($pings[.] | map(round | tostring) | join(" / "))") | join("; ")) + "."
' "$OUT_DIR/all.jsonl"
echo
echo "Machine load average (1/5/15 min) at the start: $LOAD_START; at the end: $LOAD_END."
echo "Per-run tables (masters' shares in the cluster runs): $OUT_DIR"
