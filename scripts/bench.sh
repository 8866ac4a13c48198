#!/usr/bin/env bash
# make bench: the benchmarks of docs/benchmarks.md. The system runs as
# separate processes (a NATS JetStream server, a worker, a gateway with
# authentication on) and cmd/benchload drives it from a process of its own;
# cmd/rawtf measures raw in-process TensorFlow in the same run, before and
# after, on the same machine. Each measurement is a JSON line in
# $BENCH_DIR/results.jsonl; the report is $BENCH_DIR/report.md, and CPU
# profiles of every process during a 100k NDJSON job are in
# $BENCH_DIR/profiles/.
#
# The dataset scenario writes a digits NDJSON and a breast_cancer CSV
# dataset of each size in BENCH_DATASET_ITEMS to $BENCH_DIR/data, and runs
# each end to end (tus upload, job from the upload, output download,
# checked), sampling RSS and the NATS store every second; the files and
# uploads are removed after each. A 10M-item pair needs ~12 GB of disk at
# its peak (dataset file, upload, job inputs, results, output file), ~31 GB
# free for NATS to accept the stream bounds below, and takes ~15 minutes on
# 2 cores. The NATS store dir is removed at the end (BENCH_KEEP_STORE=1
# keeps it).
#
#   make bench [BENCH_ROUNDS=3 BENCH_ITEMS=100000 BENCH_MOBILENET_ITEMS=1024 BENCH_SYNC_DURATION=10s BENCH_DATASET_ITEMS="1000000 10000000" BENCH_ONLY="idle raw job formats sync load mobilenet dense tracing dataset fair"]
#
# tracing: a 100k job and a synchronous load with tracing off, on at 1 %
# sampling and at 100 % (BENCH_TRACING_MODES="off 1% 100%", in that
# order), in the same run; spans go over OTLP/HTTP to `benchload sink`,
# which counts them (results: kind "spans").
#
# The fair section (docs/scheduling.md) runs each of its scenarios under both
# scheduling policies in turn, restarting the gateway with SCHED_POLICY=fair
# or fifo: tenant B's small job alone, then behind tenant A's backlog, and
# the cost of fair share with 1, 10 and 100 active jobs of several tenants.
#
#   make bench BENCH_ONLY=fair [BENCH_FAIR_JOBS=8 BENCH_FAIR_ITEMS=100000 BENCH_FAIR_SMALL=256 BENCH_FAIR_COST_JOBS="1 10 100" BENCH_FAIR_COST_ITEMS=100000 BENCH_FAIR_ROUNDS=2 BENCH_FAIR_DEPTHS="8:6 2:2"]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
eval "$(scripts/tf-env.sh)"
eval "$(scripts/litert-env.sh)"

dir=${BENCH_DIR:-$(mktemp -d -t bench.XXXXXX)}
mkdir -p "$dir/profiles"
rounds=${BENCH_ROUNDS:-3}
items=${BENCH_ITEMS:-100000}
sync_d=${BENCH_SYNC_DURATION:-10s}
only=${BENCH_ONLY:-idle raw job formats sync load mobilenet dense tracing dataset fair}
dataset_items=${BENCH_DATASET_ITEMS:-1000000 10000000}
nats_port=${BENCH_NATS_PORT:-15222}
gw_port=${BENCH_GATEWAY_PORT:-18200}
out=$dir/results.jsonl
: >"$out"
pids=()
cleanup() { # the servers running now (a restarted one's old pid is not ours any more)
  for p in "${pids[@]}" $gw_pid $worker_pid; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}" $gw_pid $worker_pid; do wait "$p" 2>/dev/null || true; done
  [ "${BENCH_KEEP_STORE:-0}" = 1 ] || rm -rf "$dir/nats" "$dir/data"
}
gw_pid= worker_pid=
trap cleanup EXIT
want() { [[ " $only " == *" $1 "* ]]; }

# shellcheck source=scripts/lib/procs.sh
. scripts/lib/procs.sh

start_nats "$dir" "$nats_port"
pids+=($!); nats_pid=$!
# every benchmark job is the operator tenant's: its share of the results store is the whole store
export NATS_URL=nats://127.0.0.1:$nats_port RESULT_TTL=10m GATEWAY_MAX_TENANT_RESULT_BYTES=$((4 << 30))
if want dataset; then
  # Stream bounds (gateway and worker create the streams with them) large
  # enough for the dataset scenario: the results of a 10M-item digits job
  # (3.6 GB as JSON, 360 B an item; ~0.6 GB compact) and of a 10M-row breast_cancer one (2.3 GB as JSON),
  # kept RESULT_TTL after each job, together; one 10M-row dataset stored at
  # a time (1.5 GB NDJSON, 2.1 GB CSV: each upload is deleted after its
  # job); the inputs not yet run of one job in JOBIN (at most 1.9 GB seen; a
  # dataset's reading waits for room beyond it). JetStream reserves them
  # (~23 GB with the registry's 1 GiB) within the store's default max, 75 %
  # of the free disk.
  export RESULT_MAX_BYTES=${RESULT_MAX_BYTES:-8589934592} UPLOAD_MAX_BYTES=${UPLOAD_MAX_BYTES:-4294967296} \
    QUEUE_MAX_BYTES=${QUEUE_MAX_BYTES:-4294967296}
  # the operator tenant's share is the whole store here too: the jobs of
  # the sections before still hold theirs (RESULT_TTL) when the 10M-item
  # digits job (~3.7 GB estimated) is admitted
  export GATEWAY_MAX_TENANT_RESULT_BYTES=$RESULT_MAX_BYTES
else
  # Nothing else uploads: a 1 GiB uploads stream instead of 12 GiB, so that
  # the streams' bounds fit the store JetStream allows on a fuller disk.
  export UPLOAD_MAX_BYTES=${UPLOAD_MAX_BYTES:-1073741824}
fi

start_worker() { # extra flags
  if [ -n "$worker_pid" ]; then kill -TERM "$worker_pid"; wait "$worker_pid" 2>/dev/null || true; fi
  env ${BENCH_WORKER_ENV:-} ./bin/worker -worker-id bench-w1 -health-addr "127.0.0.1:$((gw_port + 1))" -pprof-addr "127.0.0.1:$((gw_port + 2))" "$@" >>"$dir/worker.log" 2>&1 &
  worker_pid=$!
  wait_http "http://127.0.0.1:$((gw_port + 1))/ready" "$worker_pid" "$dir/worker.log"
}
start_worker

limits='rate=10000000 burst=10000000 jobs=4096 items=1000000000 conns=100000 uploads=64'
key=$(./bin/loadgen new-key)
printf 'bench %s role=operator %s\n' "$(printf %s "$key" | sha256sum | cut -d' ' -f1)" "$limits" >"$dir/api-keys"
tenant_keys=() # the fair section's tenants: A, B, then more for its cost scenario
for t in A B C D E F G H I J; do
  k=$(./bin/loadgen new-key); tenant_keys+=("$k")
  printf 'tenant%s %s %s\n' "$t" "$(printf %s "$k" | sha256sum | cut -d' ' -f1)" "$limits" >>"$dir/api-keys"
done
start_gateway() { # NAME=VALUE settings (SCHED_POLICY=fifo)
  if [ -n "$gw_pid" ]; then kill -TERM "$gw_pid"; wait "$gw_pid" 2>/dev/null || true; fi
  env "$@" ./bin/gateway -addr "127.0.0.1:$gw_port" -api-keys-file "$dir/api-keys" -max-body-bytes 1073741824 -pprof-addr "127.0.0.1:$((gw_port + 3))" >>"$dir/gateway.log" 2>&1 &
  gw_pid=$! gw_settings="$*"
  wait_http "http://127.0.0.1:$gw_port/ready" "$gw_pid" "$dir/gateway.log"
}
start_gateway SCHED_POLICY=fair

load() { # label, benchload args...
  local label=$1; shift
  BENCH_API_KEY=$key ./bin/benchload "$1" -url "http://127.0.0.1:$gw_port" -label "$label" \
    -proc "nats=$nats_pid,gateway=$gw_pid,worker=$worker_pid" "${@:2}" | tee -a "$out"
}
raw() { # label, rawtf args...
  local label=$1; shift
  ./bin/rawtf "$@" | sed "s/^{/{\"kind\":\"raw\",\"label\":\"$label\",\"result\":{/; s/}\$/}}/" | tee -a "$out"
}
profilers=()
profile() { # seconds, name prefix: CPU profiles of the three processes, in the background
  [ "${BENCH_PROFILE:-1}" = 1 ] || return 0
  local secs=$1 prefix=$2 name port
  # (not the worker: Go's CPU profiler crashes TensorFlow's threads, see runx.Pprof)
  for p in "gateway $((gw_port + 3))" "nats $((nats_port + 2))"; do
    read -r name port <<<"$p"
    curl -fsS -o "$dir/profiles/$prefix$name.pprof" "http://127.0.0.1:$port/debug/pprof/profile?seconds=$secs" &
    profilers+=($!)
  done
}

wait_profiles() { # (a bare `wait` would wait for the servers too)
  [ ${#profilers[@]} -eq 0 ] || wait "${profilers[@]}" 2>/dev/null || true
  profilers=()
}
echo "bench: results in $out" >&2
idle() { # CPU of each process over 5 s without load
  local before after
  before=$(for p in $nats_pid $gw_pid $worker_pid; do awk '{print $14+$15}' /proc/$p/stat; done | paste -sd' ')
  sleep 5
  after=$(for p in $nats_pid $gw_pid $worker_pid; do awk '{print $14+$15}' /proc/$p/stat; done | paste -sd' ')
  echo "{\"kind\":\"idle\",\"label\":\"5s without load\",\"result\":{\"ticks_before\":\"$before\",\"ticks_after\":\"$after\"}}" | tee -a "$out"
}
want idle && idle
want raw && raw before -model digits -batch 256
if want job; then
  load warmup job -format ndjson -items 20000 >/dev/null
  for r in $(seq 1 "$rounds"); do
    load "round $r" job -format ndjson -items "$items"
  done
  # NATS traffic of each connection (gateway, worker, load...) over one job:
  # the messages per chunk, in profiles/job-connz-{before,after}.json.
  connz() { curl -fsS "http://127.0.0.1:$((nats_port + 1))/connz?limit=1024&subs=1" >"$dir/profiles/job-connz-$1.json" || true; }
  connz before
  profile 4 job-; load profiled job -format ndjson -items "$items"; wait_profiles
  connz after
fi
if want formats; then
  for f in json b64 octet npy; do load "$f" job -format "$f" -items "$items" || true; done
  load csv job -model breast_cancer -format csv -items "$items" || true
  load image job -format image -items 20000 || true
fi
if want sync; then
  for c in 1 16; do load "idle" sync -conns "$c" -duration "$sync_d"; done
  profile 4 sync-; load "idle" sync -conns 64 -duration "$sync_d"; wait_profiles
  start_worker -max-sync-batch 1
  load "max-sync-batch 1" sync -conns 64 -duration "$sync_d"
  start_worker
fi
if want load; then
  load "idle" sync -conns 16 -duration "$sync_d"
  profile 4 backlog-; load "behind backlog" sync -conns 16 -duration "$sync_d" -backlog 200000; wait_profiles
fi
want raw && raw after -model digits -batch 256 && raw "batch 1" -model digits -batch 1
if want mobilenet && [ -f model/models/mobilenet_bench/1/saved_model.pb ]; then
  start_worker -serve digits,mobilenet_bench
  raw "best batch" -model mobilenet_bench -batch 4
  # pixels: integers of 0 to 255, what a client sends for an image it
  # decoded; noise: floats in [0, 1), the worst case (no one-byte form)
  for f in octet b64 npy-u8; do load "$f pixels" job -model mobilenet_bench -format "$f" -items "${BENCH_MOBILENET_ITEMS:-1024}" -inputs pixels || true; done
  load "octet noise" job -model mobilenet_bench -format octet -items "${BENCH_MOBILENET_ITEMS:-1024}" || true
fi
if want dense && [ -f model/models/dense_bench/1/saved_model.pb ]; then
  # a model of over 100 µs per item, given digits-scale integer inputs (0 to 16)
  start_worker -serve digits,dense_bench
  raw "dense before" -model dense_bench -batch 256
  load warmup job -model dense_bench -format ndjson -items 20000 -inputs pixels >/dev/null
  for r in $(seq 1 "$rounds"); do
    load "dense round $r" job -model dense_bench -format ndjson -items "$items" -inputs pixels
  done
  load "dense octet" job -model dense_bench -format octet -items "$items" -inputs pixels
  raw "dense after" -model dense_bench -batch 256
  start_worker
fi
if want tracing; then
  sink=127.0.0.1:$((gw_port + 4))
  ./bin/benchload sink -addr "$sink" 2>>"$dir/sink.log" &
  pids+=($!); sink_pid=$!
  wait_http "http://$sink/count" "$sink_pid" "$dir/sink.log"
  export OTEL_EXPORTER_OTLP_ENDPOINT=http://$sink
  for mode in ${BENCH_TRACING_MODES:-off 1% 100%}; do
    case $mode in
      off) export OTEL_TRACES_EXPORTER=none ;;
      1%) export OTEL_TRACES_EXPORTER=otlp OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=0.01 ;;
      100%) export OTEL_TRACES_EXPORTER=otlp OTEL_TRACES_SAMPLER=parentbased_always_on OTEL_TRACES_SAMPLER_ARG= ;;
    esac
    start_worker; start_gateway
    [ -n "${warmed:-}" ] || { load warmup job -format ndjson -items 20000 >/dev/null; warmed=1; }
    load "tracing $mode" job -format ndjson -items "$items"
    load "tracing $mode" sync -conns 16 -duration "$sync_d"
    sleep 6 # the batch exporter's last round (5 s)
    echo "{\"kind\":\"spans\",\"label\":\"tracing $mode (received so far)\",\"result\":$(curl -fsS "http://$sink/count")}" | tee -a "$out"
  done
  unset OTEL_TRACES_EXPORTER OTEL_TRACES_SAMPLER OTEL_TRACES_SAMPLER_ARG OTEL_EXPORTER_OTLP_ENDPOINT
  start_worker; start_gateway # tracing off again for what follows
fi
if want dataset; then
  mkdir -p "$dir/data"
  for n in $dataset_items; do
    for spec in "digits ndjson" "breast_cancer csv"; do
      read -r m f <<<"$spec"
      echo "bench: dataset $m $f $n items; $(uptime)" >&2
      load "$n $f" dataset -model "$m" -format "$f" -items "$n" -dir "$dir/data" \
        -nats-dir "$dir/nats" -nats-monitor "http://127.0.0.1:$((nats_port + 1))" || true
    done
  done
  rmdir "$dir/data" 2>/dev/null || true
fi
use_gateway() { # NAME=VALUE settings: the gateway restarted with them, unless it runs with them already
  [ "$*" = "$gw_settings" ] || start_gateway "$@"
}
fair_env=() # settings every fair-section gateway gets besides SCHED_POLICY
fairload() { # policy, label, benchload fair args...
  local policy=$1 label=$2; shift 2
  use_gateway SCHED_POLICY="$policy" "${fair_env[@]}"
  BENCH_API_KEY=$key BENCH_TENANT_KEYS=$(IFS=,; echo "${tenant_keys[*]}") ./bin/benchload fair -url "http://127.0.0.1:$gw_port" \
    -label "$label" -policy "$policy" -proc "nats=$nats_pid,gateway=$gw_pid,worker=$worker_pid" "$@" | tee -a "$out"
}
fair_small=${BENCH_FAIR_SMALL:-256}
fair_round() { # label, policies: each scenario under each policy in turn, so that the two are measured minutes apart at most
  local label=$1 p n; shift
  for p in "$@"; do for _ in 1 2 3; do fairload "$p" "$label" -scenario idle -small "$fair_small"; done; done
  for p in "$@"; do
    fairload "$p" "$label" -scenario contend -jobs "${BENCH_FAIR_JOBS:-8}" -items "${BENCH_FAIR_ITEMS:-100000}" -small "$fair_small"
  done
  for n in ${BENCH_FAIR_COST_JOBS:-1 10 100}; do
    for p in "$@"; do fairload "$p" "$label" -scenario cost -jobs "$n" -items "${BENCH_FAIR_COST_ITEMS:-100000}"; done
  done
}
if want fair; then
  fair_rounds=${BENCH_FAIR_ROUNDS:-2}
  load warmup job -format ndjson -items 20000 >/dev/null
  for r in $(seq 1 "$fair_rounds"); do
    label=; [ "$fair_rounds" = 1 ] || label="round $r"
    # fair first in odd rounds, fifo first in even ones: a machine getting
    # busier or quieter favours neither
    if [ $((r % 2)) = 1 ]; then fair_round "$label" fair fifo; else fair_round "$label" fifo fair; fi
  done
  # what SCHED_QUEUE_CHUNKS and WORKER_PREFETCH trade: a new job waits behind
  # the chunks already queued and held (2 + 3 by default); 8 + 6 (the old
  # defaults), then 2 + 2
  # (labelled with the last round, whose FIFO row each is compared with);
  # BENCH_FAIR_DEPTHS lists others as queue:prefetch
  for v in ${BENCH_FAIR_DEPTHS:-8:6 2:2}; do
    qc=${v%:*} pf=${v#*:}
    variant="${label:+$label, }queue $qc, prefetch $pf"
    fair_env=(SCHED_QUEUE_CHUNKS="$qc")
    start_worker -prefetch "$pf"
    for _ in 1 2 3; do fairload fair "$variant" -scenario idle -small "$fair_small"; done
    fairload fair "$variant" -scenario contend -jobs "${BENCH_FAIR_JOBS:-8}" -items "${BENCH_FAIR_ITEMS:-100000}" -small "$fair_small"
  done
  fair_env=()
  start_worker
  use_gateway SCHED_POLICY=fair
fi
./bin/benchload report "$out" >"$dir/report.md"
cat "$dir/report.md"
echo "bench: report in $dir/report.md" >&2
