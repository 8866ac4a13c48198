#!/usr/bin/env bash
# make soak: the system as separate processes (a NATS JetStream server, a
# worker, a gateway) under load from cmd/loadgen, in its own process, for
# SOAK_DURATION (default 45m). The loadgen checks every result and samples
# each process's RSS, file descriptors and goroutines, and the JetStream
# consumers, and fails on any error, loss, duplicate or upward trend.
# Output: the report in $SOAK_DIR (default a new temp dir): report.md,
# report.json and every process's log.
#
# It runs at the default settings: results kept 24 h (RESULT_TTL) in a
# 4 GiB store (RESULT_MAX_BYTES), of which its one tenant may hold 2 GiB
# (GATEWAY_MAX_TENANT_RESULT_BYTES): this load fills that share in about
# 17 minutes on two cores (results stored compact, ~50 bytes an item; 3
# minutes when they were JSON). Past that bound every accepted job must
# still end with its counts adding up, and later submissions are refused
# (507 insufficient_storage with Retry-After, counted as "refused"), while
# synchronous predictions go on: the cliff where jobs used to hang
# silently. SOAK_RESULT_TTL=2m instead keeps the streams at a steady size
# below the bound (a soak of the steady state).
#
#   make soak SOAK_DURATION=30m [SOAK_JOB_CLIENTS=64 SOAK_SYNC_CLIENTS=32 SOAK_WORKERS=1 SOAK_RESULT_TTL=2m SOAK_WARMUP=10m]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
eval "$(scripts/tf-env.sh)"
eval "$(scripts/litert-env.sh)"

dir=${SOAK_DIR:-$(mktemp -d -t soak.XXXXXX)}
mkdir -p "$dir"
nats_port=${SOAK_NATS_PORT:-14222}
gw_port=${SOAK_GATEWAY_PORT:-18100}
workers=${SOAK_WORKERS:-1}
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

# shellcheck source=scripts/lib/procs.sh
. scripts/lib/procs.sh

start_nats "$dir" "$nats_port"
pids+=($!); nats_pid=$!
procs="nats=$nats_pid"

export NATS_URL=nats://127.0.0.1:$nats_port
# The default settings unless SOAK_RESULT_TTL is set (see above).
if [ -n "${SOAK_RESULT_TTL:-}" ]; then
  export RESULT_TTL=$SOAK_RESULT_TTL
fi
for i in $(seq 1 "$workers"); do
  hp=$((gw_port + 10 + i))
  ./bin/worker -worker-id "soak-w$i" -health-addr "127.0.0.1:$hp" >"$dir/worker$i.log" 2>&1 &
  pids+=($!)
  wait_http "http://127.0.0.1:$hp/ready" "$!" "$dir/worker$i.log"
  procs+=",worker$i=$!@http://127.0.0.1:$hp/metrics"
done
key=$(./bin/loadgen new-key)
printf 'soak %s role=operator rate=1000000 burst=1000000 jobs=4096 items=1000000000 conns=100000\n' "$(printf %s "$key" | sha256sum | cut -d' ' -f1)" >"$dir/api-keys"
./bin/gateway -addr "127.0.0.1:$gw_port" -api-keys-file "$dir/api-keys" >"$dir/gateway.log" 2>&1 &
pids+=($!); gw_pid=$!
wait_http "http://127.0.0.1:$gw_port/ready" "$gw_pid" "$dir/gateway.log"
procs+=",gateway=$gw_pid@http://127.0.0.1:$gw_port/metrics"

# Trends are measured once the streams have reached their size and the
# server's caches are warm: with SOAK_RESULT_TTL, from a third of the run
# and not before 4 x RESULT_TTL (at ~20k items/s the NATS server's RSS rises
# for ~8 min with a 2 min TTL, then stays flat); at the default settings,
# from two thirds of the run (30 of 45 minutes: the share is full after
# about 17, and NATS's memory grows with the store until then). A run
# shorter than that checks results, errors and consumers, and says that it
# is too short for trends.
if [ -z "${SOAK_WARMUP:-}" ]; then
  SOAK_WARMUP=$(python3 -c '
import re, sys
def secs(d):
    return sum(float(n) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001}[u] for n, u in re.findall(r"([0-9.]+)(ms|h|m|s)", d))
run, ttl = secs(sys.argv[1]), sys.argv[2]
print("%ds" % (max(run / 3, 4 * secs(ttl)) if ttl else 2 * run / 3))' "${SOAK_DURATION:=45m}" "${SOAK_RESULT_TTL:-}")
  export SOAK_WARMUP
fi
export SOAK_DURATION=${SOAK_DURATION:-45m}
echo "soak: ${SOAK_DURATION:-10m} of load (trends from $SOAK_WARMUP), report in $dir"
LOADGEN_API_KEY=$key ./bin/loadgen -url "http://127.0.0.1:$gw_port" -proc "$procs" -nats-url "$NATS_URL" \
  -out "$dir/report.json" -markdown "$dir/report.md" 2> >(grep -v '"message":"progress"' >&2 || true) || rc=$?
echo "soak: report in $dir/report.md"
exit "${rc:-0}"
