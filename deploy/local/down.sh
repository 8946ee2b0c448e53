#!/usr/bin/env bash
# Stops the local townhalld and its Redis (data stays in .local/redis).
set -uo pipefail
cd "$(dirname "$0")/../.."
STATE=$(pwd)/.local
for name in townhalld redis; do
  if [[ -f $STATE/$name.pid ]] && kill -0 "$(cat "$STATE/$name.pid")" 2>/dev/null; then
    kill -TERM "$(cat "$STATE/$name.pid")"
    echo "stopped $name"
  fi
done
