#!/usr/bin/env bash
# A shardserve cluster on this machine: one gateway and N worker nodes of the built jar, each
# with its own Artery, management and admin ports, all on 127.0.0.1.
#
#   deploy/local-cluster.sh start            start what is not running; returns once the gateway answers
#   deploy/local-cluster.sh status           each process: pid, running, ready, jar; and the cluster's members
#   deploy/local-cluster.sh stop             SIGTERM everything (graceful: replicas hand off, nodes leave)
#   deploy/local-cluster.sh rolling-restart  restart the worker nodes one at a time, each ready before the next,
#                                            then the gateways (with ROLLING_GATEWAYS=1)
#   deploy/local-cluster.sh restart NAME     restart one process (gateway, gateway-2, ..., node-1, ...) with $JAR:
#                                            SIGTERM (it drains), start, wait until ready. JAR=old.jar ... restart
#                                            node-2 runs node-2 on another release (a rolling upgrade)
#
# Settings (environment):
#   NODES         worker nodes (default 3)
#   GATEWAYS      gateways (default 1); gateway k >= 2 is named gateway-k, with the inference port
#                 HTTP_PORT+10(k-1), the admin port ADMIN_PORT+10(k-1), Artery PORT_BASE+50+k and
#                 management PORT_BASE+150+k
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
#   JAR           the shardserve jar (default deploy/target/shardserve.jar, built if missing); a process keeps
#                 the jar it was started with (shown by status) until it is restarted
#   FRESH_DATA    with restart: delete the process's data dir first (a replacement with an empty disk)
#   STOP_TIMEOUT  seconds a stopping process gets to drain and exit (default 240: above the worst-case sum of
#                 Coordinated Shutdown's phases with the default drain timeout of 30 s)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODES="${NODES:-3}"
GATEWAYS="${GATEWAYS:-1}"
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
[[ "$GATEWAYS" =~ ^[1-9]$ ]] || die "GATEWAYS must be 1-9, was '$GATEWAYS'"
for v in HTTP_PORT ADMIN_PORT PORT_BASE; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || die "$v must be a port number, was '${!v}'"
done
for v in GRPC_PORT; do
  [[ "${!v}" =~ ^(-1|[0-9]+)$ ]] || die "$v must be a port number or -1 (off), was '${!v}'"
done

seeds="127.0.0.1:$PORT_BASE,127.0.0.1:$((PORT_BASE + 1))"

pid_of() { cat "$STATE_DIR/$1.pid" 2>/dev/null || true; }
running() { local p; p="$(pid_of "$1")"; [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }
# gateway_index NAME: 1 for gateway, k for gateway-k
gateway_index() { if [ "$1" = gateway ]; then echo 1; else echo "${1#gateway-}"; fi; }
mgmt_port() {
  case "$1" in
    gateway) echo $((PORT_BASE + 100)) ;;
    gateway-*) echo $((PORT_BASE + 150 + ${1#gateway-})) ;;
    *) echo $((PORT_BASE + 100 + ${1#node-})) ;;
  esac
}
gateway_names() { echo gateway; for k in $(seq 2 "$GATEWAYS"); do echo "gateway-$k"; done; }
node_names() { for i in $(seq 1 "$NODES"); do echo "node-$i"; done; }
valid_name() {
  local n="$1"
  case "$n" in
    gateway) return 0 ;;
    gateway-[2-9]) [ "${n#gateway-}" -le "$GATEWAYS" ] ;;
    node-[1-9]*) [[ "${n#node-}" =~ ^[0-9]+$ ]] && [ "${n#node-}" -le "$NODES" ] ;;
    *) return 1 ;;
  esac
}
metrics_port() {
  case "$1" in
    gateway) echo $((PORT_BASE + 300)) ;;
    gateway-*) echo $((PORT_BASE + 350 + ${1#gateway-})) ;;
    *) echo $((PORT_BASE + 300 + ${1#node-})) ;;
  esac
}
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

# jar_supports JAR SUBCOMMAND OPTION: whether that release's SUBCOMMAND takes OPTION (a rolling
# upgrade runs jars of older releases, which refuse options added later: --grpc-port, --metrics-port).
declare -A help_of
jar_supports() {
  # This tree's own jar takes every option: no probe (a JVM start) on the path of every start.
  [ "$1" -ef "$here/deploy/target/shardserve.jar" ] && return 0
  local key="$1|$2"
  [ -n "${help_of[$key]+x}" ] || help_of[$key]="$(java -jar "$1" "$2" --help 2>&1 || true)"
  grep -q -- "$3" <<<"${help_of[$key]}"
}

start_gateway() {
  local name="${1:-gateway}" k artery grpc
  running "$name" && return 0
  k="$(gateway_index "$name")"
  artery=$PORT_BASE
  [ "$k" -gt 1 ] && artery=$((PORT_BASE + 50 + k))
  grpc=$GRPC_PORT
  [ "$GRPC_PORT" -gt 0 ] && grpc=$((GRPC_PORT + 10 * (k - 1))) # -1 (off) and 0 (a free port) as given
  local args=(gateway --seed "$seeds" --artery-port "$artery" --port $((HTTP_PORT + 10 * (k - 1))) --host 127.0.0.1
    --admin-port $((ADMIN_PORT + 10 * (k - 1))) --management-port "$(mgmt_port "$name")"
    --data-dir "$STATE_DIR/$name-data")
  if jar_supports "$JAR" gateway --grpc-port; then args+=(--grpc-port "$grpc" --grpc-host 127.0.0.1); fi
  if jar_supports "$JAR" gateway --metrics-port; then
    args+=(--metrics-port "$(metrics_port "$name")" --metrics-host 127.0.0.1)
  fi
  [ -n "${MODEL_CONFIG:-}" ] && args+=(--model-config "$MODEL_CONFIG")
  echo "=== $(date '+%F %T') starting $name with $JAR" >>"$STATE_DIR/$name.log"
  # shellcheck disable=SC2086
  nohup java $GATEWAY_HEAP -jar "$JAR" "${args[@]}" >>"$STATE_DIR/$name.log" 2>&1 &
  echo $! >"$STATE_DIR/$name.pid"
  echo "$JAR" >"$STATE_DIR/$name.jar"
}

start_node() {
  local i="$1" name="node-$1"
  running "$name" && return 0
  echo "=== $(date '+%F %T') starting $name with $JAR" >>"$STATE_DIR/$name.log"
  # shellcheck disable=SC2086
  local metrics=()
  if jar_supports "$JAR" node --metrics-port; then
    metrics=(--metrics-port "$(metrics_port "$name")" --metrics-host 127.0.0.1)
  fi
  nohup java $NODE_HEAP -jar "$JAR" node --seed "$seeds" --artery-port $((PORT_BASE + i)) \
    --model-repo "$MODEL_REPO" --admin-port $((PORT_BASE + 200 + i)) --management-port "$(mgmt_port "$name")" \
    "${metrics[@]}" --data-dir "$STATE_DIR/$name-data" >>"$STATE_DIR/$name.log" 2>&1 &
  echo $! >"$STATE_DIR/$name.pid"
  echo "$JAR" >"$STATE_DIR/$name.jar"
}

start_one() {
  case "$1" in
    gateway*) start_gateway "$1" ;;
    node-*) start_node "${1#node-}" ;;
  esac
}

# restart_one NAME: drain and stop it, start it again with $JAR, wait until it is ready
restart_one() {
  local name="$1"
  valid_name "$name" || die "no process '$name' (gateway, gateway-2..gateway-$GATEWAYS, node-1..node-$NODES)"
  echo "restarting $name with $JAR"
  stop_one "$name"
  if [ -n "${FRESH_DATA:-}" ]; then
    rm -rf "${STATE_DIR:?}/$name-data"
  fi
  start_one "$name"
  wait_for 180 "$name to be ready" ready "$name"
}

stop_one() {
  local name="$1" p
  p="$(pid_of "$name")"
  if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
    kill -TERM "$p"
    # Coordinated Shutdown: hand off replicas, leave the cluster, exit.
    wait_for "${STOP_TIMEOUT:-240}" "$name to exit" bash -c "! kill -0 $p 2>/dev/null"
  fi
  rm -f "$STATE_DIR/$name.pid"
}

cmd="${1:-}"
case "$cmd" in
  start)
    mkdir -p "$STATE_DIR"
    ensure_jar
    ensure_repo
    for g in $(gateway_names); do start_gateway "$g"; done
    for i in $(seq 1 "$NODES"); do start_node "$i"; done
    for g in $(gateway_names); do wait_for 180 "$g to be ready" ready "$g"; done
    for i in $(seq 1 "$NODES"); do wait_for 180 "node-$i to be ready" ready "node-$i"; done
    wait_for 120 "the gateway to answer on port $HTTP_PORT" \
      bash -c "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$HTTP_PORT/v1/models/half_plus_two | grep -qv '^000$'"
    echo "local cluster up: gateway http://127.0.0.1:$HTTP_PORT (gRPC $GRPC_PORT, admin $ADMIN_PORT), $GATEWAYS gateway(s), $NODES nodes, state in $STATE_DIR"
    ;;
  status)
    for name in $(gateway_names) $(node_names); do
      if running "$name"; then
        if ready "$name"; then r=ready; else r="not ready"; fi
        echo "$name pid $(pid_of "$name") running, $r (management :$(mgmt_port "$name"), metrics :$(metrics_port "$name")), jar $(cat "$STATE_DIR/$name.jar" 2>/dev/null || echo '?')"
      else
        echo "$name not running"
      fi
    done
    curl -s "http://127.0.0.1:$(mgmt_port gateway)/cluster/members" || true
    echo
    ;;
  stop)
    for i in $(seq "$NODES" -1 1); do stop_one "node-$i"; done
    for g in $(gateway_names | sort -r); do stop_one "$g"; done
    echo "local cluster stopped"
    ;;
  restart)
    [ -n "${2:-}" ] || die "usage: $0 restart gateway|gateway-K|node-N"
    mkdir -p "$STATE_DIR"
    [ -f "$JAR" ] || die "no jar at $JAR"
    restart_one "$2"
    ;;
  rolling-restart)
    for name in $(node_names); do restart_one "$name"; done
    if [ -n "${ROLLING_GATEWAYS:-}" ]; then
      for g in $(gateway_names); do restart_one "$g"; done
    fi
    echo "rolling restart done"
    ;;
  *)
    die "usage: $0 start|status|stop|rolling-restart|restart NAME"
    ;;
esac
