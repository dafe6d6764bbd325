#!/usr/bin/env bash
# Rolling upgrade across releases, under steady load (not in CI: about 10 minutes on 2 cores, plus
# 5 for the first build of the previous release).
#
#   deploy/upgrade-test.sh
#
# 1. Builds the previous release (PREVIOUS, default 1970aee) in a temporary git worktree (its jar is
#    kept in $WORK_DIR and reused) and this tree's jar (NEW_JAR, built if missing).
# 2. Starts a cluster of the previous release with deploy/local-cluster.sh: GATEWAYS (2) gateways and
#    NODES (3) worker nodes, the gateways seeded from a model config file; makes admin changes (two
#    replicas, version policy, a label, one model unloaded) and records the desired state.
# 3. Sends steady load (RATE requests/s, deploy/scripts/SteadyLoad.java) to the gateways, as a
#    balancer would: only to ready gateways (Akka Management /ready), and a request whose connection
#    fails goes to the other gateway.
# 4. Upgrades one process at a time to the new jar: node-1..node-N, then each gateway, each one with
#    an empty data dir (a replacement pod); before the next, waits until the model has two
#    AVAILABLE replicas again.
# 5. Stops the load and reports requests sent / failed / retried and whether the desired state is
#    the one recorded before. Exit code 0 only with no failed request and the desired state intact.
#
# Settings (environment): PREVIOUS, NEW_JAR, WORK_DIR (default target/upgrade-test), NODES, GATEWAYS,
# RATE (default 20), PORT_BASE (default 25620), HTTP_PORT (default 8601), ADMIN_PORT (default 8602),
# KEEP=1 leaves the cluster running at the end, REBUILD=1 builds the previous release again.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREVIOUS="${PREVIOUS:-1970aee}"
WORK_DIR="${WORK_DIR:-$here/target/upgrade-test}"
NEW_JAR="${NEW_JAR:-$here/deploy/target/shardserve.jar}"
RATE="${RATE:-20}"
export NODES="${NODES:-3}" GATEWAYS="${GATEWAYS:-2}"
export PORT_BASE="${PORT_BASE:-25620}" HTTP_PORT="${HTTP_PORT:-8601}" ADMIN_PORT="${ADMIN_PORT:-8602}"
export STATE_DIR="$WORK_DIR/cluster"
cluster="$here/deploy/local-cluster.sh"
admin="http://127.0.0.1:$ADMIN_PORT/admin"
old_jar="$WORK_DIR/shardserve-$PREVIOUS.jar"
t0=$SECONDS

log() { echo "[upgrade-test $((SECONDS - t0))s] $*"; }
die() { echo "upgrade-test: $*" >&2; exit 1; }
command -v jq >/dev/null || die "jq is required (apt-get install -y jq)"

wait_for() {
  local seconds="$1" what="$2"; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || die "timed out after ${seconds}s waiting for $what"
    sleep 1
  done
}

mkdir -p "$WORK_DIR"

# --- 1. the two jars ---
if [ ! -f "$old_jar" ] || [ -n "${REBUILD:-}" ]; then
  src="$(mktemp -d "${TMPDIR:-/tmp}/shardserve-$PREVIOUS-XXXX")"
  log "building release $PREVIOUS in a temporary worktree $src"
  git -C "$here" worktree add --detach "$src" "$PREVIOUS" >/dev/null
  (cd "$src" && mvn -q -B -DskipTests package -pl deploy -am)
  cp "$src/deploy/target/shardserve.jar" "$old_jar"
  git -C "$here" worktree remove --force "$src"
fi
if [ ! -f "$NEW_JAR" ]; then
  log "building this tree's jar"
  (cd "$here" && mvn -q -B -DskipTests package -pl deploy -am)
fi

# --- 2. a cluster of the previous release, with admin changes ---
if [ -d "$STATE_DIR" ]; then
  JAR="$old_jar" "$cluster" stop >/dev/null 2>&1 || true
  rm -rf "$STATE_DIR"
fi
mkdir -p "$STATE_DIR/models"
java -jar "$old_jar" example-model --out "$STATE_DIR/models/half_plus_two" >/dev/null
cp -r "$STATE_DIR/models/half_plus_two" "$STATE_DIR/models/hpt_copy"
export MODEL_REPO="$STATE_DIR/models"
export MODEL_CONFIG="$WORK_DIR/models.conf"
echo 'models { half_plus_two { }, hpt_copy { } }' >"$MODEL_CONFIG"
log "starting $GATEWAYS gateway(s) and $NODES nodes of release $PREVIOUS"
JAR="$old_jar" "$cluster" start

available_replicas() {
  curl -sf "$admin/models/half_plus_two" \
    | jq '[.replica_status[]? | select((.versions // []) | any(.state == "AVAILABLE"))] | length'
}
two_replicas_serve() { [ "$(available_replicas 2>/dev/null || echo 0)" -ge 2 ]; }

curl -sf -X PUT -d '{"replicas": 2, "version_policy": "all"}' "$admin/models/half_plus_two" >/dev/null
wait_for 180 "two AVAILABLE replicas of half_plus_two" two_replicas_serve
curl -sf -X PUT -d '{"version": 1}' "$admin/models/half_plus_two/labels/stable" >/dev/null
curl -sf -X POST "$admin/models/hpt_copy/unload" >/dev/null
desired() {
  curl -sf "$admin/models" | jq -S '[.models[] | {name, loaded, base_path, version_policy, labels, replicas,
    stateful, batching, request_timeout_ms}] | sort_by(.name)'
}
desired >"$WORK_DIR/desired-before.json"
log "desired state recorded: $(jq -c '[.[] | {name, loaded, replicas, labels}]' "$WORK_DIR/desired-before.json")"

# --- 3. steady load ---
stop_file="$WORK_DIR/stop-load"
rm -f "$stop_file"
urls="http://127.0.0.1:$HTTP_PORT"
ready_urls="http://127.0.0.1:$((PORT_BASE + 100))/ready"
for k in $(seq 2 "$GATEWAYS"); do
  urls="$urls,http://127.0.0.1:$((HTTP_PORT + 10 * (k - 1)))"
  ready_urls="$ready_urls,http://127.0.0.1:$((PORT_BASE + 150 + k))/ready"
done
java "$here/deploy/scripts/SteadyLoad.java" --urls "$urls" --ready-urls "$ready_urls" --model half_plus_two \
  --label stable --rate "$RATE" \
  --stop-file "$stop_file" --report "$WORK_DIR/load.json" >"$WORK_DIR/load.log" 2>&1 &
load_pid=$!
trap 'touch "$stop_file"; [ -z "${KEEP:-}" ] && JAR="$NEW_JAR" "$cluster" stop >/dev/null 2>&1' EXIT
sleep 10
log "load running: $(tail -1 "$WORK_DIR/load.log")"

# --- 4. one process at a time ---
upgrade_start=$SECONDS
for name in $(for i in $(seq 1 "$NODES"); do echo "node-$i"; done) gateway $(for k in $(seq 2 "$GATEWAYS"); do echo "gateway-$k"; done); do
  log "upgrading $name"
  JAR="$NEW_JAR" FRESH_DATA=1 "$cluster" restart "$name"
  wait_for 180 "two AVAILABLE replicas after upgrading $name" two_replicas_serve
  log "$name runs the new release; load: $(tail -1 "$WORK_DIR/load.log")"
done
upgrade_seconds=$((SECONDS - upgrade_start))
sleep 10

# --- 5. report ---
touch "$stop_file"
wait "$load_pid" || true
desired >"$WORK_DIR/desired-after.json"
if diff -u "$WORK_DIR/desired-before.json" "$WORK_DIR/desired-after.json" >"$WORK_DIR/desired.diff"; then
  intact=yes
else
  intact=no
fi
"$cluster" status >"$WORK_DIR/status.txt" 2>&1 || true
sent=$(jq .sent "$WORK_DIR/load.json")
failed=$(jq .failed "$WORK_DIR/load.json")
unanswered=$(jq .unanswered "$WORK_DIR/load.json")
retried=$(jq .retried_on_connection_error "$WORK_DIR/load.json")
{
  echo "rolling upgrade $PREVIOUS -> $(git -C "$here" rev-parse --short HEAD)$(git -C "$here" diff --quiet || echo '+changes')"
  echo "cluster: $GATEWAYS gateway(s), $NODES nodes; load $RATE requests/s through the gateways"
  echo "upgrade of $((NODES + GATEWAYS)) processes took ${upgrade_seconds}s; whole run $((SECONDS - t0))s"
  echo "requests sent $sent, failed $failed, unanswered $unanswered, retried on another gateway after a connection error $retried"
  echo "failures: $(jq -c .failures "$WORK_DIR/load.json")"
  echo "desired state intact: $intact$([ "$intact" = no ] && echo " (see $WORK_DIR/desired.diff)")"
} | tee "$WORK_DIR/report.txt"
[ "$failed" = 0 ] && [ "$unanswered" = 0 ] && [ "$intact" = yes ]
