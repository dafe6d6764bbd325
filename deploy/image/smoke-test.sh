#!/usr/bin/env bash
# Smoke test of the container image: build it, run it, ask it, stop it.
#
#   deploy/image/smoke-test.sh [--base-image REF]
#
# 1. Builds the image with build.sh. The base is --base-image, else the Dockerfile's default when
#    it can be pulled, else a base built from Debian packages by local-base.sh (no registry needed).
# 2. Runs the archive deploy/target/shardserve-image.tar with the host network, on free ports
#    (SHARDSERVE_PORT, ..._ADMIN_PORT, ..._MANAGEMENT_PORT, ..._METRICS_PORT, ..._GRPC_PORT):
#    with docker when a daemon answers, otherwise with buildah's chroot isolation (no daemon, no
#    OCI runtime; it honours the image's user, working folder and environment).
# 3. Checks a predict on the example model, /ready, and the image's HEALTHCHECK command.
# 4. Sends SIGTERM and checks a clean exit (status 0, or 143 = the JVM's exit after SIGTERM, with
#    Coordinated Shutdown completed) within DRAIN_SECONDS (default 10: the bound this test allows;
#    with no request in flight the drain ends at once, whatever shardserve.drain-timeout is).
# Exit status 0 when every check passed. Installs buildah, debootstrap and curl with apt-get when
# missing (root). Prints the timings: build, image size, cold start to first answer, stop.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
image_dir="$here/deploy/image"
base=""
while [ $# -gt 0 ]; do
  case "$1" in
    --base-image) base="$2"; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "smoke-test: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
DRAIN_SECONDS="${DRAIN_SECONDS:-10}"
START_SECONDS="${START_SECONDS:-120}"
tag="shardserve:smoke"
archive="$here/deploy/target/shardserve-image.tar"
work="$here/deploy/target/smoke-test"
mkdir -p "$work"
log="$work/container.log"
total_start=$SECONDS

say() { echo "smoke-test: $*" >&2; }
fail() { echo "smoke-test: FAIL: $*" >&2; [ -f "$log" ] && { echo "--- last lines of $log" >&2; tail -30 "$log" >&2; }; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

apt_install() {
  [ "$(id -u)" = 0 ] || fail "$* missing and installing needs root"
  say "installing $* with apt-get"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
command -v curl >/dev/null || apt_install curl

if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  runner=docker
else
  runner=buildah
  command -v buildah >/dev/null || apt_install buildah
fi
say "runner: $runner"

# The base: the one asked for, else the Dockerfile's default if a registry answers, else local.
if [ -z "$base" ]; then
  default_base="$(sed -n 's/^ARG BASE_IMAGE=//p' "$image_dir/Dockerfile" | head -1)"
  if { [ $runner = docker ] && timeout 120 docker pull -q "$default_base" >/dev/null 2>&1; } \
      || { [ $runner = buildah ] && timeout 120 buildah pull -q "$default_base" >/dev/null 2>&1; }; then
    base="$default_base"
  else
    say "cannot pull $default_base (no registry reachable): building the base from Debian packages"
    [ $runner = buildah ] || fail "no registry and a Docker daemon: load a Java 17 base into docker and pass --base-image"
    base_start=$(now)
    "$image_dir/local-base.sh"
    say "local base ready in $(since "$base_start") s"
    base="localhost/shardserve-base:17"
  fi
fi

build_start=$(now)
"$image_dir/build.sh" --base-image "$base" --tag "$tag" >"$work/build.log" 2>&1 \
  || { tail -30 "$work/build.log" >&2; fail "build.sh failed (log: $work/build.log)"; }
build_seconds=$(since "$build_start")
build_line="$(grep '^build: .* in [0-9]* s' "$work/build.log" | tail -1)"
say "${build_line#build: }"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
http_port=$(free_port); admin_port=$(free_port); mgmt_port=$(free_port); metrics_port=$(free_port); grpc_port=$(free_port)
envs=(SHARDSERVE_PORT="$http_port" SHARDSERVE_ADMIN_PORT="$admin_port" SHARDSERVE_MANAGEMENT_PORT="$mgmt_port"
  SHARDSERVE_METRICS_PORT="$metrics_port" SHARDSERVE_GRPC_PORT="$grpc_port")

ctr=""
bg=""
java_pid=""
cleanup() {
  if [ $runner = docker ]; then
    [ -n "$ctr" ] && docker rm -f "$ctr" >/dev/null 2>&1 || true
  else
    # A failure before the stop step has not looked the JVM up yet: without this, wait would hang.
    if [ -z "$java_pid" ] && [ -n "$bg" ]; then java_pid="$(find_java "$bg" 2>/dev/null)" || true; fi
    [ -n "$java_pid" ] && kill -KILL "$java_pid" 2>/dev/null || true
    [ -n "$bg" ] && { kill "$bg" 2>/dev/null; wait "$bg" 2>/dev/null; } || true
    [ -n "$ctr" ] && buildah rm "$ctr" >/dev/null 2>&1 || true
    # The name the archive was read in under (the same image as the built one).
    buildah rmi "docker.io/library/$tag" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

# The java process under the buildah process: the container's main process (chroot isolation
# has no PID namespace, so it is a process of this machine).
find_java() {
  local pids=("$1") p c
  while [ ${#pids[@]} -gt 0 ]; do
    p="${pids[0]}"; pids=("${pids[@]:1}")
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = java ] && { echo "$p"; return 0; }
    for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do pids+=("$c"); done
  done
  return 1
}

run_start=$(now)
if [ $runner = docker ]; then
  docker load -i "$archive" >/dev/null
  env_args=(); for e in "${envs[@]}"; do env_args+=(-e "$e"); done
  ctr="$(docker run -d --network host "${env_args[@]}" "$tag")"
  (docker logs -f "$ctr" >"$log" 2>&1 &)
else
  ctr="$(buildah from --quiet "docker-archive:$archive")"
  env_args=(); for e in "${envs[@]}"; do env_args+=(--env "$e"); done
  buildah config "${env_args[@]}" "$ctr"
  read -r -a entrypoint <<<"$(buildah inspect --format '{{range .Docker.Config.Entrypoint}}{{.}} {{end}}' "$ctr")"
  read -r -a cmd <<<"$(buildah inspect --format '{{range .Docker.Config.Cmd}}{{.}} {{end}}' "$ctr")"
  buildah run --isolation chroot --network host "$ctr" -- "${entrypoint[@]}" "${cmd[@]}" >"$log" 2>&1 &
  bg=$!
fi

answer=""
deadline=$((SECONDS + START_SECONDS))
until answer="$(curl -sf -m 5 -d '{"instances": [1.0, 2.0, 5.0]}' \
    "http://127.0.0.1:$http_port/v1/models/half_plus_two:predict" 2>/dev/null)"; do
  [ $SECONDS -lt $deadline ] || fail "no answer on port $http_port within ${START_SECONDS}s"
  if [ $runner = buildah ] && ! kill -0 "$bg" 2>/dev/null; then fail "the container exited before answering"; fi
  sleep 0.25
done
cold_start=$(since "$run_start")
[ "$answer" = '{"predictions":[2.5,3.0,4.5]}' ] || fail "predict answered '$answer'"
say "predict answered $answer, ${cold_start} s after the container started (cold start)"

# Ready comes after the first answer: the gateway warms its request path first (README "Loading").
ready=""
deadline=$((SECONDS + START_SECONDS))
until [ "$(curl -s -o /dev/null -m 5 -w '%{http_code}' "http://127.0.0.1:$mgmt_port/ready")" = 200 ]; do
  [ $SECONDS -lt $deadline ] || fail "/ready not 200 within ${START_SECONDS}s"
  sleep 0.25
done
say "/ready answered 200, $(since "$run_start") s after the container started"

if [ $runner = docker ]; then
  deadline=$((SECONDS + 60))
  until [ "$(docker inspect --format '{{.State.Health.Status}}' "$ctr")" = healthy ]; do
    [ $SECONDS -lt $deadline ] || fail "HEALTHCHECK did not report healthy within 60 s"
    sleep 1
  done
else
  # The HEALTHCHECK command from the image's config (Docker format), run inside the container.
  read -r -a health <<<"$(buildah inspect --format '{{range .Docker.Config.Healthcheck.Test}}{{.}} {{end}}' "$ctr")"
  [ "${health[0]:-}" = CMD ] || fail "the image has no HEALTHCHECK CMD (OCI format?): '${health[*]:-}'"
  buildah run --isolation chroot --network host "$ctr" -- "${health[@]:1}" || fail "HEALTHCHECK command failed"
fi
say "HEALTHCHECK passed"

stop_start=$(now)
if [ $runner = docker ]; then
  docker kill -s TERM "$ctr" >/dev/null
  status="$(timeout $((DRAIN_SECONDS + 5)) docker wait "$ctr")" || fail "still running $((DRAIN_SECONDS + 5)) s after SIGTERM"
else
  java_pid="$(find_java "$bg")" || fail "no java process under the container"
  kill -TERM "$java_pid"
  deadline=$((SECONDS + DRAIN_SECONDS + 5))
  while kill -0 "$java_pid" 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || fail "still running $((DRAIN_SECONDS + 5)) s after SIGTERM"
    sleep 0.1
  done
  java_pid=""
  set +e; wait "$bg"; set -e
  status="$(sed -n 's/.*subprocess exited with status \([0-9]*\).*/\1/p' "$log" | tail -1)"
  bg=""
fi
stop_seconds=$(since "$stop_start")
awk -v s="$stop_seconds" -v d="$DRAIN_SECONDS" 'BEGIN { exit !(s <= d) }' \
  || fail "exit took ${stop_seconds} s after SIGTERM, more than the drain time (${DRAIN_SECONDS} s)"
[ "$status" = 0 ] || [ "$status" = 143 ] || fail "exit status '$status' after SIGTERM"
grep -q "Successfully shut down" "$log" || fail "Coordinated Shutdown did not complete (no 'Successfully shut down')"
! grep -q " ERROR " "$log" || fail "the container logged errors"
say "SIGTERM: exit status $status after ${stop_seconds} s (drain time ${DRAIN_SECONDS} s)"

size="$(echo "$build_line" | sed -n 's/.*image \([^ ]*\) .*/\1/p')"
echo "smoke-test: PASS (runner $runner, base $base): build ${build_seconds} s, image ${size:-?}," \
  "cold start to first answer ${cold_start} s, SIGTERM to exit ${stop_seconds} s, total $((SECONDS - total_start)) s"
