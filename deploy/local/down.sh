#!/usr/bin/env bash
# Stops the local townhalld (one, or the replicas of up.sh --replicas and
# their haproxy) and its Redis (data stays in .local/redis), or the local
# Redis Cluster of up.sh --cluster (its data is in memory: gone).
# TOWNHALL_STATE: the state directory up.sh used (.local).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
STATE=${TOWNHALL_STATE:-$(pwd)/.local}
stopped=()
for pidfile in "$STATE"/haproxy.pid "$STATE"/townhalld.pid "$STATE"/townhalld-*.pid "$STATE"/redis.pid; do
  [[ -f $pidfile ]] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" && stopped+=("$pid")
    echo "stopped $(basename "$pidfile" .pid)"
  fi
done
stopped_nodes=0
for pidfile in "$STATE"/cluster/*/redis.pid; do
  if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    kill -TERM "$(cat "$pidfile")" && stopped_nodes=$((stopped_nodes + 1))
  fi
done
((stopped_nodes == 0)) || echo "stopped $stopped_nodes Redis Cluster nodes"
# townhalld drains (--drain_delay) and Redis writes its last changes: wait
# for them, so that a following up.sh finds the ports free.
for pid in "${stopped[@]}"; do
  for _ in $(seq 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
done
