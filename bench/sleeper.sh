#!/usr/bin/env bash
# A stand-in test runner: bench/sleeper.sh JUNIT_PATH id...
# Runs (sleeps) until BENCH_C_MS (the per-batch start cost) plus the sum of its tests' durations have
# passed since it started; durations are looked up by id in BENCH_DURATIONS (TSV: id<TAB>ms, and
# optionally <TAB>the ms its JUnit time shows). Then it writes JUnit XML to JUNIT_PATH ('-': none),
# giving each test that JUnit time, else BENCH_JUNIT_FRACTION_PCT percent of its real time (real
# runners' JUnit times leave out most of a file's cost: imports, environment, collection).
# Appends to BENCH_LOG "begin <start> <pgid> <worker> <ids...>" when it starts and
# "end <start> <end> <pgid> <worker> <n> <ids...>" when done (times: $EPOCHREALTIME, seconds).
# Pure bash apart from `sleep`, so the runner itself adds only a few ms to a batch.
set -euo pipefail
start=$EPOCHREALTIME
junit=$1
shift
read -r -a stat </proc/$$/stat # field 5 is the process group
pgid=${stat[4]}
worker=${SHARDLESS_WORKER:--}
if [ -n "${BENCH_LOG:-}" ]; then echo "begin $start $pgid $worker $*" >>"$BENCH_LOG"; fi

declare -A dur junit_ms
while IFS=$'\t' read -r id ms shown; do
  dur[$id]=$ms
  if [ -n "$shown" ]; then junit_ms[$id]=$shown; fi
done <"$BENCH_DURATIONS"
cost_ms=${BENCH_C_MS:-0}
for id in "$@"; do
  if [ -z "${dur[$id]+x}" ]; then
    echo "sleeper: unknown test id $id" >&2 # a bench bug: fail loudly
    exit 2
  fi
  cost_ms=$((cost_ms + dur[$id]))
done

now=$EPOCHREALTIME
left_us=$((${start/./} + cost_ms * 1000 - ${now/./}))
if [ "$left_us" -gt 0 ]; then
  printf -v frac '%06d' $((left_us % 1000000))
  sleep "$((left_us / 1000000)).$frac"
fi

if [ "$junit" != "-" ]; then
  pct=${BENCH_JUNIT_FRACTION_PCT:-100}
  {
    echo '<?xml version="1.0"?>'
    echo '<testsuites>'
    for id in "$@"; do
      t=${junit_ms[$id]:-$((dur[$id] * pct / 100))} # ms
      printf '<testsuite name="%s" tests="1"><testcase classname="%s" name="%s" time="%d.%03d"/></testsuite>\n' "$id" "$id" "$id" $((t / 1000)) $((t % 1000))
    done
    echo '</testsuites>'
  } >"$junit"
fi
if [ -n "${BENCH_LOG:-}" ]; then echo "end $start $EPOCHREALTIME $pgid $worker $# $*" >>"$BENCH_LOG"; fi
exit 0
