#!/usr/bin/env bash
# A shardserve cluster on this machine: one gateway and N worker nodes of the built jar, each
# with its own Artery, management and admin ports, all on 127.0.0.1.
#
#   deploy/local-cluster.sh start            start what is not running; returns once the gateway answers
#   deploy/local-cluster.sh status           each process: pid, running, ready; and the cluster's members
#   deploy/local-cluster.sh stop             SIGTERM everything (graceful: replicas hand off, nodes leave)
#   deploy/local-cluster.sh rolling-restart  restart the worker nodes one at a time, each ready before the next
#
# Settings (environment):
#   NODES         worker nodes (default 3)
#   MODEL_REPO    model repository shared by the nodes (default $STATE_DIR/models, with the example model)
#   MODEL_CONFIG  model config file for the gateway (optional)
#   HTTP_PORT     the gateway's inference port (default 8501)
#   ADMIN_PORT    the gateway's admin port (default 8502)
#   GRPC_PORT     the gateway's gRPC port (default 8500; -1 turns gRPC off)
#   PORT_BASE     Artery port of the gateway (default 25520); node i uses PORT_BASE+i; management ports
#                 are PORT_BASE+100 (gateway) and PORT_BASE+100+i; node admin ports PORT_BASE+200+i;
#                 metrics listeners (GET /metrics) PORT_BASE+300 (gateway) and PORT_BASE+300+i
#                 (deploy/prometheus/prometheus.yml scrapes these for the defaults)
#   STATE_DIR     pid files (gateway.pid, node-1.pid, ...), logs and data (default target/local-cluster)
#   NODE_HEAP     JVM options of a node (default -Xmx512m); GATEWAY_HEAP likewise (default -Xmx384m)
#   JAR           the shardserve jar (default deploy/target/shardserve.jar, built if missing)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODES="${NODES:-3}"
HTTP_PORT="${HTTP_PORT:-8501}"
ADMIN_PORT="${ADMIN_PORT:-8502}"
GRPC_PORT="${GRPC_PORT:-8500}"
PORT_BASE="${PORT_BASE:-25520}"
STATE_DIR="${STATE_DIR:-$here/target/local-cluster}"
MODEL_REPO="${MODEL_REPO:-$STATE_DIR/models}"
NODE_HEAP="${NODE_HEAP:--Xmx512m}"
GATEWAY_HEAP="${GATEWAY_HEAP:--Xmx384m}"
JAR="${JAR:-$here/deploy/target/shardserve.jar}"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"

die() { echo "local-cluster: $*" >&2; exit 1; }
[[ "$NODES" =~ ^[1-9][0-9]*$ ]] || die "NODES must be a positive number, was '$NODES'"
for v in HTTP_PORT ADMIN_PORT PORT_BASE; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || die "$v must be a port number, was '${!v}'"
done
for v in GRPC_PORT; do
  [[ "${!v}" =~ ^(-1|[0-9]+)$ ]] || die "$v must be a port number or -1 (off), was '${!v}'"
done

seeds="127.0.0.1:$PORT_BASE,127.0.0.1:$((PORT_BASE + 1))"

pid_of() { cat "$STATE_DIR/$1.pid" 2>/dev/null || true; }
running() { local p; p="$(pid_of "$1")"; [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }
mgmt_port() { if [ "$1" = gateway ]; then echo $((PORT_BASE + 100)); else echo $((PORT_BASE + 100 + ${1#node-})); fi; }
metrics_port() { if [ "$1" = gateway ]; then echo $((PORT_BASE + 300)); else echo $((PORT_BASE + 300 + ${1#node-})); fi; }
ready() { curl -sf -o /dev/null "http://127.0.0.1:$(mgmt_port "$1")/ready"; }

# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.5 s until it succeeds or time is up
wait_for() {
  local seconds="$1" what="$2"; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || die "timed out after ${seconds}s waiting for $what (logs in $STATE_DIR)"
    sleep 0.5
  done
}

ensure_jar() {
  if [ ! -f "$JAR" ]; then
    echo "building $JAR..." >&2
    (cd "$here" && mvn -q -B -DskipTests package) >&2
  fi
}

ensure_repo() {
  if [ ! -d "$MODEL_REPO" ]; then
    mkdir -p "$MODEL_REPO"
    java -jar "$JAR" example-model --out "$MODEL_REPO/half_plus_two" >/dev/null
  fi
}

start_gateway() {
  running gateway && return 0
  local args=(gateway --seed "$seeds" --artery-port "$PORT_BASE" --port "$HTTP_PORT" --host 127.0.0.1
    --grpc-port "$GRPC_PORT" --grpc-host 127.0.0.1
    --admin-port "$ADMIN_PORT" --management-port "$(mgmt_port gateway)" --metrics-port "$(metrics_port gateway)"
    --metrics-host 127.0.0.1 --data-dir "$STATE_DIR/gateway-data")
  [ -n "${MODEL_CONFIG:-}" ] && args+=(--model-config "$MODEL_CONFIG")
  # shellcheck disable=SC2086
  nohup java $GATEWAY_HEAP -jar "$JAR" "${args[@]}" >>"$STATE_DIR/gateway.log" 2>&1 &
  echo $! >"$STATE_DIR/gateway.pid"
}

start_node() {
  local i="$1" name="node-$1"
  running "$name" && return 0
  # shellcheck disable=SC2086
  nohup java $NODE_HEAP -jar "$JAR" node --seed "$seeds" --artery-port $((PORT_BASE + i)) \
    --model-repo "$MODEL_REPO" --admin-port $((PORT_BASE + 200 + i)) --management-port "$(mgmt_port "$name")" \
    --metrics-port "$(metrics_port "$name")" --metrics-host 127.0.0.1 \
    --data-dir "$STATE_DIR/$name-data" >>"$STATE_DIR/$name.log" 2>&1 &
  echo $! >"$STATE_DIR/$name.pid"
}

stop_one() {
  local name="$1" p
  p="$(pid_of "$name")"
  if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
    kill -TERM "$p"
    # Coordinated Shutdown: hand off replicas, leave the cluster, exit.
    wait_for 90 "$name to exit" bash -c "! kill -0 $p 2>/dev/null"
  fi
  rm -f "$STATE_DIR/$name.pid"
}

cmd="${1:-}"
case "$cmd" in
  start)
    mkdir -p "$STATE_DIR"
    ensure_jar
    ensure_repo
    start_gateway
    for i in $(seq 1 "$NODES"); do start_node "$i"; done
    wait_for 180 "the gateway to be ready" ready gateway
    for i in $(seq 1 "$NODES"); do wait_for 180 "node-$i to be ready" ready "node-$i"; done
    wait_for 120 "the gateway to answer on port $HTTP_PORT" \
      bash -c "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$HTTP_PORT/v1/models/half_plus_two | grep -qv '^000$'"
    echo "local cluster up: gateway http://127.0.0.1:$HTTP_PORT (gRPC $GRPC_PORT, admin $ADMIN_PORT), $NODES nodes, state in $STATE_DIR"
    ;;
  status)
    for name in gateway $(for i in $(seq 1 "$NODES"); do echo "node-$i"; done); do
      if running "$name"; then
        if ready "$name"; then r=ready; else r="not ready"; fi
        echo "$name pid $(pid_of "$name") running, $r (management :$(mgmt_port "$name"), metrics :$(metrics_port "$name"))"
      else
        echo "$name not running"
      fi
    done
    curl -s "http://127.0.0.1:$(mgmt_port gateway)/cluster/members" || true
    echo
    ;;
  stop)
    for i in $(seq "$NODES" -1 1); do stop_one "node-$i"; done
    stop_one gateway
    echo "local cluster stopped"
    ;;
  rolling-restart)
    for i in $(seq 1 "$NODES"); do
      echo "restarting node-$i"
      stop_one "node-$i"
      start_node "$i"
      wait_for 180 "node-$i to be ready" ready "node-$i"
    done
    echo "rolling restart done"
    ;;
  *)
    die "usage: $0 start|status|stop|rolling-restart"
    ;;
esac
