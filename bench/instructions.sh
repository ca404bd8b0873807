#!/usr/bin/env bash
# Instructions per request on the main thread, under valgrind's callgrind: a count that repeats where CPU
# time on a shared 2-core host moves by 10 to 20% from run to run, so changes of a few percent can be
# compared. Starts the bench upstream and either the bare proxy or the gateway (pass-through route, access
# log on) under callgrind, warms it up with wrk, then counts a window of wrk load.
#
#   bench/instructions.sh bare|gateway [OUT_DIR]      (WARM=90 WINDOW=30 seconds by default)
#
# Prints "<what> main-thread instructions/request: N"; OUT_DIR keeps the callgrind file and the perf map
# (`callgrind_annotate OUT_DIR/callgrind.out`; JIT addresses resolve through OUT_DIR/perf-*.map).
# Needs valgrind and wrk (Debian packages). Takes about WARM + WINDOW + 30 seconds.
set -euo pipefail
what=${1:?usage: bench/instructions.sh bare|gateway [OUT_DIR]}
out=${2:-$(mktemp -d /tmp/portcullis-instructions-XXXXXX)}
warm=${WARM:-90}
window=${WINDOW:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/portcullis-instructions-run-XXXXXX)
mkdir -p "$out"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
up_port=$(free_port)
port=$(free_port)
cd "$root"
node --import tsx bench/upstream.ts --port "$up_port" >/dev/null &
pids+=($!)

vg=(valgrind --tool=callgrind --instr-atstart=no --separate-threads=yes "--callgrind-out-file=$work/cg.%p")
if [ "$what" = gateway ]; then
  cat >"$work/def.yaml" <<EOF
settings:
  accessLog: { format: JSON, enabled: true }
  accountThrottle: { rateLimit: 1000000, burstLimit: 1000000 }
apis:
  - name: bench
    stages: { prod: { variables: { up: "http://127.0.0.1:$up_port" } } }
    routes:
      - { method: GET, path: /bench, integration: { type: http_proxy, url: "\${stageVariables.up}/" } }
EOF
  mkdir -p "$work/conf" && mv "$work/def.yaml" "$work/conf/"
  PORTCULLIS_ADMIN_TOKEN=pcat_bench_$(printf 'b%.0s' {1..40}) "${vg[@]}" node --perf-basic-prof bin/portcullis.js serve \
    --config "$work/conf/def.yaml" --data-dir "$work/data" --listen "127.0.0.1:$port" --admin-listen "127.0.0.1:$(free_port)" \
    --log-level warn >/dev/null 2>"$work/valgrind.err" &
  url="http://127.0.0.1:$port/prod/bench"
elif [ "$what" = bare ]; then
  "${vg[@]}" node --perf-basic-prof --import tsx bench/bare-proxy.ts --upstream "http://127.0.0.1:$up_port" --port "$port" \
    >/dev/null 2>"$work/valgrind.err" &
  url="http://127.0.0.1:$port/"
else
  echo "usage: bench/instructions.sh bare|gateway [OUT_DIR]" >&2
  exit 2
fi
pid=$!
pids+=("$pid")
for _ in $(seq 1 180); do curl -s -o /dev/null "$url" && break; sleep 1; done
wrk -t1 -c10 "-d${warm}s" "$url" >/dev/null
callgrind_control -i on "$pid" >/dev/null 2>&1
callgrind_control -z "$pid" >/dev/null 2>&1
requests=$(wrk -t1 -c10 "-d${window}s" "$url" | grep -oP '\d+(?= requests in)')
callgrind_control -d "$pid" >/dev/null 2>&1
sleep 2
main=$(ls "$work"/cg."$pid".1-01)
cp "$main" "$out/callgrind.out"
cp /tmp/perf-"$pid".map "$out/" 2>/dev/null || true
rm -f /tmp/perf-"$pid".map
total=$(grep -h '^summary:\|^totals:' "$main" | head -1 | awk '{print $2}')
echo "$what main-thread instructions/request: $((total / requests)) ($requests requests; files in $out)"
