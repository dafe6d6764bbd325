#!/bin/sh
# Entry point of the shardserve image: runs the jar with JVM flags that follow the container's
# memory limit, TensorFlow's native cache from the image, and JAVA_OPTS (later flags win).
#
# `standalone` without SHARDSERVE_MODEL_REPO serves, as TF Serving's image does, MODEL_BASE_PATH
# (default /models) when MODEL_NAME is set, else /models when something is mounted there, else
# the example model half_plus_two, which it writes into the working folder (./models) first.
# An explicit --model-repo wins over all of these.
set -e
if [ "${1:-}" = standalone ] && [ -z "${SHARDSERVE_MODEL_REPO:-}" ]; then
  if [ -n "${MODEL_NAME:-}" ]; then
    export SHARDSERVE_MODEL_REPO="${MODEL_BASE_PATH:-/models}"
  elif [ -n "$(ls -A /models 2>/dev/null)" ]; then
    export SHARDSERVE_MODEL_REPO=/models
  fi
fi
# MaxRAMPercentage: the heap is sized from the container's limit; TensorFlow's native memory
# and the JVM's own live beside it, so the heap takes 60 %.
# shellcheck disable=SC2086
exec java -XX:MaxRAMPercentage=60 -XX:+ExitOnOutOfMemoryError \
  -Dorg.bytedeco.javacpp.cachedir=/opt/shardserve/javacpp-cache \
  ${JAVA_OPTS:-} -jar /opt/shardserve/shardserve.jar "$@"
