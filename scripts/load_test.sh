#!/usr/bin/env bash
# Load test of a real Blindfold server on loopback (docs/service.md, "Load
# test"), bounded in count and time:
#  1. LOAD_CLIENTS (8) concurrent clients, each with its own keys, send
#     LOAD_REQUESTS (1000) Infer calls after LOAD_WARMUP (100); every result
#     is decrypted and checked against the plan in float64. Passes with 0
#     errors, 0 wrong results, and the server's resident memory at the end
#     within 10 % of what it was after the warm-up.
#  2. The queue bound: a server with one worker and 2 queue places, 16
#     clients without retries, 400 calls: some must get RESOURCE_EXHAUSTED,
#     every other must be OK and correct, none lost (OK + rejected = sent),
#     and the server's rejection counter must agree.
# Prints both reports. Needs a build (BUILD_DIR, default build/).
#
#   bash scripts/load_test.sh
#   LOAD_MODEL=cnn LOAD_REQUESTS=200 bash scripts/load_test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
model=${LOAD_MODEL:-logreg}
clients=${LOAD_CLIENTS:-8}
requests=${LOAD_REQUESTS:-1000}
warmup=${LOAD_WARMUP:-100}
workers=${LOAD_WORKERS:-1}
max_seconds=${LOAD_MAX_SECONDS:-600}
source scripts/service_lib.sh
service_setup load-test "$model"

echo "load_test.sh: phase 1: $model, $clients clients, $requests requests after $warmup warm-up"
start_server --workers "$workers" --queue 64
"$bf" load --server "127.0.0.1:$port" --model "$model" --clients "$clients" \
  --requests "$requests" --warmup "$warmup" --max-seconds "$max_seconds" \
  --reference-plan "$work/plans/$model.plan" --metrics "127.0.0.1:$mport" --json \
  >"$work/phase1.json" 2>>"$work/load.log"
stop_server
$py - "$work/phase1.json" "$requests" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); want = int(sys.argv[2])
rss = r["server_rss_mb"]; lat = r["latency_ms"]
print(f"  {r['requests_sent']} calls ({r['measured']} measured) from {r['clients']} clients: "
      f"{r['errors']} errors, {r['wrong_results']} wrong results, codes {r['codes']}")
print(f"  {r['requests_per_second']:.1f} requests/s; latency p50 {lat['p50']:.1f} ms, "
      f"p90 {lat['p90']:.1f} ms, p99 {lat['p99']:.1f} ms, max {lat['max']:.1f} ms; "
      f"server time p50 {r['server_ms']['p50']:.1f} ms")
print(f"  server RSS {rss['after_warmup']:.1f} MB after warm-up, {rss['end']:.1f} MB at the end, "
      f"peak {rss['peak']:.1f} MB ({r['threads']} threads, {r['kernel']} kernels)")
ok = (r["errors"] == 0 and r["wrong_results"] == 0 and r["measured"] >= want
      and rss["end"] <= 1.10 * rss["after_warmup"] and rss["after_warmup"] > 0)
if not ok:
    sys.exit("load_test.sh: phase 1 FAILED (errors, wrong results, too few calls, or RSS grew > 10 %)")
PY

echo "load_test.sh: phase 2: the queue bound (1 worker, 2 queue places, 16 clients, no retries)"
start_server --workers 1 --queue 2
"$bf" load --server "127.0.0.1:$port" --model "$model" --clients 16 --requests 400 \
  --warmup 0 --attempts 1 --max-seconds "$max_seconds" \
  --reference-plan "$work/plans/$model.plan" --json >"$work/phase2.json" 2>>"$work/load.log"
rejected_metric=$($py - "$mport" <<'PY'
import sys, urllib.request
body = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics").read().decode()
print(next((l.split()[-1] for l in body.splitlines()
            if l.startswith('blindfold_queue_rejections_total{method="Infer"}')), "0"))
PY
)
stop_server
$py - "$work/phase2.json" "$rejected_metric" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); counted = float(sys.argv[2])
codes = r["codes"]; ok = codes.get("OK", 0); rejected = codes.get("RESOURCE_EXHAUSTED", 0)
print(f"  {r['requests_sent']} calls: {ok} OK (all checked: {r['wrong_results']} wrong), "
      f"{rejected} RESOURCE_EXHAUSTED, other codes {set(codes) - {'OK', 'RESOURCE_EXHAUSTED'} or 'none'}; "
      f"the server counted {counted:.0f} rejections")
# Every rejection the queue counted reached a client as RESOURCE_EXHAUSTED.
# A few more may come from gRPC itself: the sync server's thread quota
# (service/server.cc, queue + workers + uploads + 16 threads) answers
# RESOURCE_EXHAUSTED before the handler runs, which the queue's counter
# cannot see (seen in CI: 386 at the client, 383 counted).
good = (set(codes) <= {"OK", "RESOURCE_EXHAUSTED"} and rejected > 0 and ok > 0
        and ok + rejected == r["requests_sent"] == 400 and r["wrong_results"] == 0
        and counted <= rejected and rejected - counted <= 0.05 * r["requests_sent"])
if not good:
    sys.exit("load_test.sh: phase 2 FAILED")
PY
echo "load_test.sh: passed"
