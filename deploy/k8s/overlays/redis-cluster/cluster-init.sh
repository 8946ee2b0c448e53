#!/bin/sh
# Forms a Redis Cluster of 3 masters + 3 replicas from six empty nodes, once.
# Run by the redis-cluster-init Job (POSIX sh: the redis image's dash).
#
# Nodes: $REDIS_CLUSTER_ADDRESSES ("host:port host:port ..."), else the
# StatefulSet's pods <service>-0.<service>:6379 ... <service>-(N-1).<service>
# from $REDIS_CLUSTER_SERVICE (redis-cluster) and $REDIS_CLUSTER_NODES (6).
#
# - Waits (up to $REDIS_CLUSTER_WAIT seconds, 300) until every node
#   answers PING.
# - Already formed (every node knows all the others and says
#   cluster_state:ok): exits 0 and changes nothing, so the Job may run again.
# - Partly formed (some node knows others, but not all, or the state is not
#   ok): exits 1 without touching anything; that needs an operator
#   (docs/operations.md, "Kubernetes").
# - Else: redis-cli --cluster create with --cluster-replicas 1 (by IP
#   address: the nodes announce their IPs), then waits for cluster_state:ok
#   on every node.
# tests/deploy/test_redis_cluster_init.py runs it against local nodes.
set -eu

SERVICE=${REDIS_CLUSTER_SERVICE:-redis-cluster}
COUNT=${REDIS_CLUSTER_NODES:-6}
WAIT=${REDIS_CLUSTER_WAIT:-300}

if [ -n "${REDIS_CLUSTER_ADDRESSES:-}" ]; then
  NODES=$REDIS_CLUSTER_ADDRESSES
else
  NODES=""
  i=0
  while [ "$i" -lt "$COUNT" ]; do
    NODES="$NODES $SERVICE-$i.$SERVICE:6379"
    i=$((i + 1))
  done
fi
# shellcheck disable=SC2086  # one word per node
set -- $NODES
COUNT=$#

log() { echo "cluster-init: $*" >&2; }
cli() {  # cli host:port args...
  node=$1
  shift
  redis-cli -h "${node%:*}" -p "${node##*:}" "$@"
}
info_field() {  # info_field host:port field -> value of CLUSTER INFO's field
  cli "$1" cluster info 2>/dev/null | tr -d '\r' | sed -n "s/^$2://p"
}

answers() { [ "$(cli "$1" ping 2>/dev/null)" = "PONG" ]; }
cluster_ok() { [ "$(info_field "$1" cluster_state)" = "ok" ]; }
# wait_every_node CHECK WHAT: until `CHECK node` holds for every node, at
# most WAIT seconds in all; else logs "<node> WHAT" and fails.
wait_every_node() {
  deadline=$(($(date +%s) + WAIT))
  for node in $NODES; do
    until "$1" "$node"; do
      if [ "$(date +%s)" -ge "$deadline" ]; then
        log "$node $2 after ${WAIT}s"
        exit 1
      fi
      sleep 1
    done
  done
}

# 1. Every node answers.
wait_every_node answers "does not answer PING"
log "all $COUNT nodes answer"

# 2. Formed, partly formed or empty?
formed=0
empty=0
for node in $NODES; do
  known=$(info_field "$node" cluster_known_nodes)
  state=$(info_field "$node" cluster_state)
  if [ "$known" = "$COUNT" ] && [ "$state" = "ok" ]; then
    formed=$((formed + 1))
  elif [ "$known" = "1" ]; then
    empty=$((empty + 1))
  fi
done
if [ "$formed" -eq "$COUNT" ]; then
  log "the cluster is already formed ($COUNT nodes, cluster_state:ok): nothing to do"
  exit 0
fi
if [ "$empty" -ne "$COUNT" ]; then
  log "the cluster is partly formed ($formed of $COUNT nodes see all the others with state ok, $empty know only themselves): not touching it"
  for node in $NODES; do
    log "$node: cluster_known_nodes=$(info_field "$node" cluster_known_nodes) cluster_state=$(info_field "$node" cluster_state)"
  done
  exit 1
fi

# 3. Create it, by IP address.
addresses=""
for node in $NODES; do
  host=${node%:*}
  ip=$(getent hosts "$host" | head -n 1 | cut -d ' ' -f 1)
  if [ -z "$ip" ]; then
    log "cannot resolve $host"
    exit 1
  fi
  addresses="$addresses $ip:${node##*:}"
done
log "creating the cluster:$addresses"
# shellcheck disable=SC2086  # one word per address
redis-cli --cluster create $addresses --cluster-replicas 1 --cluster-yes

# 4. Until every node says ok.
wait_every_node cluster_ok "is not cluster_state:ok"
log "formed: $COUNT nodes, cluster_state:ok"
