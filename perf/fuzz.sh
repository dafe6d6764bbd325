#!/usr/bin/env bash
# Runs the Jazzer fuzz tests in fuzzing mode, one target at a time, for a set time each
# (README "Fuzzing"). The normal build runs the same tests in regression mode on the committed
# inputs only. A crash makes Jazzer write the input under the test's ...Inputs/<method>/ folder in
# src/test/resources: commit it with the fix, and the build replays it from then on.
#
#   perf/fuzz.sh                  every target, 5 minutes each
#   DURATION=30s perf/fuzz.sh     every target, 30 s each
#   TIMEOUT=10 perf/fuzz.sh       an input running over 10 s is a finding (default 30)
#   perf/fuzz.sh 'gateway:RestV1JsonFuzzTest#predictBody:com.fasterxml.jackson.**'   one target
#
# The summary (runs, seconds, result per target) goes to stdout and is appended to perf/results/fuzz-summary.md.
set -uo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-5m}"
# One input running longer than this (seconds) is a finding (libFuzzer -timeout, passed through
# Jazzer's JUnit runner as jazzer.internal.arg.N, N=0 being argv[0]; libFuzzer's default is 20 minutes).
TIMEOUT="${TIMEOUT:-30}"
# The machine is shared: fuzz at low priority (NICE=0 to turn it off).
NICE="${NICE:-10}"
# Each target: module:TestClass#method[:packages whose code Jazzer instruments for coverage]. Without
# the list only shardserve's own classes are instrumented, and the parsers inside the libraries
# (Jackson, Nimbus, Typesafe Config, protobuf) would be fuzzed blind.
TARGETS=(
  # TF Serving REST v1 JSON decoders (gateway/tfserving)
  "gateway:RestV1JsonFuzzTest#predictBody:com.fasterxml.jackson.**"
  "gateway:RestV1JsonFuzzTest#examplesBody:com.fasterxml.jackson.**"
  # authentication: API key file, JWT, JWKS, request paths and credential headers (gateway/security)
  "gateway:SecurityParsersFuzzTest#apiKeyFile"
  "gateway:SecurityParsersFuzzTest#jwt:com.nimbusds.**"
  "gateway:SecurityParsersFuzzTest#jwks:com.nimbusds.**"
  "gateway:SecurityParsersFuzzTest#requestPathAndCredentials"
  # model config file readers: HOCON, JSON, TF Serving's model_config_list text (sharding-config/desired)
  "sharding-config:ModelConfigFuzzTest#hocon:com.typesafe.config.**"
  "sharding-config:ModelConfigFuzzTest#json:com.typesafe.config.**"
  "sharding-config:ModelConfigFuzzTest#tfServingText:com.google.protobuf.**"
  # Kryo readers of every wire message, seeded from the golden samples (sharding-config/serialization)
  "sharding-config:KryoFuzzTest#kryoMessage:com.esotericsoftware.kryo.**"
  # channel frames: FrameSerializer.fromBinary and FrameCodec.read (sharding-config/channel)
  "sharding-config:FrameFuzzTest#channelMessage"
  # Open Inference Protocol v2: JSON request (fast and full decoder) and binary tensor data (gateway/kserve)
  "gateway:V2DecodersFuzzTest#jsonRequest:com.fasterxml.jackson.**"
  "gateway:V2DecodersFuzzTest#binaryTensor"
)
if [ $# -gt 0 ]; then
  TARGETS=("$@")
fi

mkdir -p perf/results
# Each run is appended: the file keeps every run's table (the README quotes them).
summary=perf/results/fuzz-summary.md
{
  [ -s "$summary" ] && echo
  echo "# Fuzzing run $(date -u +%Y-%m-%dT%H:%MZ), ${DURATION} per target"
  echo
  echo "| target | runs | seconds | coverage (edges) | result |"
  echo "|---|---:|---:|---:|---|"
} >> "$summary"

status=0
for target in "${TARGETS[@]}"; do
  module="${target%%:*}"
  rest="${target#*:}"
  test="${rest%%:*}"
  includes="dev.shardserve.**"
  if [ "$rest" != "$test" ]; then
    includes="${includes}:${rest#*:}"
  fi
  log="$(mktemp -t fuzz-XXXXXX.log)"
  echo "== fuzzing ${test} (${module}) for ${DURATION}"
  JAZZER_FUZZ=1 nice -n "$NICE" mvn -B -o -q -pl "$module" -am test -Dtest="$test" \
    -Dsurefire.failIfNoSpecifiedTests=false -Djazzer.max_duration="$DURATION" \
    -Djazzer.instrumentation_includes="$includes" -Djazzer.internal.arg.0=fuzz -Djazzer.internal.arg.1="-timeout=$TIMEOUT" >"$log" 2>&1
  rc=$?
  done_line="$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1)"
  cov="$(grep -E '^#[0-9]+.*DONE' "$log" | tail -1 | sed -E 's/.* cov: ([0-9]+).*/\1/')"
  runs="$(echo "$done_line" | awk '{print $2}')"
  secs="$(echo "$done_line" | awk '{print $5}')"
  if [ $rc -eq 0 ]; then
    result="no finding"
  else
    result="FINDING: $(grep -m1 -E '== Java Exception|ERROR: libFuzzer|Exception:|Error:|FAILURE' "$log" | cut -c1-160)"
    status=1
  fi
  echo "| ${test} | ${runs:-?} | ${secs:-?} | ${cov:-?} | ${result} |" >> "$summary"
  echo "   runs=${runs:-?} seconds=${secs:-?} coverage=${cov:-?} ${result} (log: $log)"
done
echo
tail -n $(( ${#TARGETS[@]} + 4 )) "$summary"
exit $status
