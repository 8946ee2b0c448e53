#!/usr/bin/env bash
# Starts a local Redis Cluster of 3 masters + 3 replicas on free loopback
# ports (each node's cluster bus is port + 10000, free too), waits until
# every node says cluster_state:ok and every replica is in sync, and prints
# the seed list "127.0.0.1:P1,...,127.0.0.1:P6" on stdout.
#
#   seeds=$(tests/start_cluster.sh DIR)   # nodes daemonized, data in DIR/<port>/
#   ... TOWNHALL_TEST_REDIS_CLUSTER=$seeds ...
#   kill $(cat DIR/*/redis.pid)           # stop them
#
# Exits non-zero (nodes left running; kill them as above) if the cluster
# does not form within 30 s.
set -euo pipefail
DIR=${1:?usage: start_cluster.sh DIR}
mkdir -p "$DIR"

# Six ports whose bus ports are free as well.
mapfile -t PORTS < <(/usr/bin/python3 - <<'EOF'
import socket

def free(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()

found = []
while len(found) < 6:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    if port + 10000 <= 65535 and port not in found and free(port + 10000):
        found.append(port)
print("\n".join(map(str, found)))
EOF
)

addresses=()
for port in "${PORTS[@]}"; do
  mkdir -p "$DIR/$port"
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
    --cluster-enabled yes --cluster-config-file "$DIR/$port/nodes.conf" \
    --cluster-node-timeout 1000 --repl-diskless-sync-delay 0 --dir "$DIR/$port" --daemonize yes \
    --pidfile "$DIR/$port/redis.pid" --logfile "$DIR/$port/redis.log" \
    --enable-debug-command local
  addresses+=("127.0.0.1:$port")
done
for port in "${PORTS[@]}"; do
  for _ in $(seq 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
done

redis-cli --cluster create "${addresses[@]}" --cluster-replicas 1 \
  --cluster-yes >"$DIR/create.log" 2>&1 ||
  { cat "$DIR/create.log" >&2; exit 1; }

# Healthy when every node says cluster_state:ok and every replica's link to
# its master is up and done syncing.
healthy() {
  local port info replicas=0
  for port in "${PORTS[@]}"; do
    redis-cli -p "$port" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || return 1
    info=$(redis-cli -p "$port" info replication 2>/dev/null) || return 1
    if grep -q '^role:slave' <<<"$info"; then
      grep -q '^master_link_status:up' <<<"$info" || return 1
      grep -q '^master_sync_in_progress:0' <<<"$info" || return 1
      replicas=$((replicas + 1))
    fi
  done
  ((replicas == 3))
}
for _ in $(seq 300); do
  if healthy; then
    (IFS=,; echo "${addresses[*]}")
    exit 0
  fi
  sleep 0.1
done
echo "start_cluster.sh: cluster in $DIR not healthy after 30 s" >&2
exit 1
