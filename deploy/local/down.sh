#!/usr/bin/env bash
# Stops the local townhalld and its Redis (data stays in .local/redis), or
# the local Redis Cluster of up.sh --cluster (its data is in memory: gone).
set -uo pipefail
cd "$(dirname "$0")/../.."
STATE=$(pwd)/.local
for name in townhalld redis; do
  if [[ -f $STATE/$name.pid ]] && kill -0 "$(cat "$STATE/$name.pid")" 2>/dev/null; then
    kill -TERM "$(cat "$STATE/$name.pid")"
    echo "stopped $name"
  fi
done
stopped_nodes=0
for pidfile in "$STATE"/cluster/*/redis.pid; do
  if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    kill -TERM "$(cat "$pidfile")" && stopped_nodes=$((stopped_nodes + 1))
  fi
done
((stopped_nodes == 0)) || echo "stopped $stopped_nodes Redis Cluster nodes"
