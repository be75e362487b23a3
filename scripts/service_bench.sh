#!/usr/bin/env bash
# The service's overhead (docs/service.md, "Overhead"): each encrypted
# input of BENCH_MODEL (cnn) goes through a real server on loopback (gRPC,
# token check, key cache, work queue) and, right before or after, through
# runtime::InferenceServer in the client's process (`blindfold load
# --paired`): one client, BENCH_ROUNDS (3) rounds of BENCH_REQUESTS (40)
# pairs after 5 warm-up pairs. Interleaving gives both sides the same
# machine load, which matters on a shared machine. Prints each round, the
# medians, and the requests/s of two clients at once.
#
#   bash scripts/service_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
model=${BENCH_MODEL:-cnn}
rounds=${BENCH_ROUNDS:-3}
requests=${BENCH_REQUESTS:-40}
source scripts/service_lib.sh
service_setup bench "$model"
start_server
for r in $(seq "$rounds"); do
  "$bf" load --server "127.0.0.1:$port" --model "$model" --clients 1 --requests "$requests" \
    --warmup 5 --paired "$work/plans/$model.plan" --json >"$work/round-$r.json" 2>/dev/null
done
"$bf" load --server "127.0.0.1:$port" --model "$model" --clients 2 --requests "$requests" \
  --warmup 4 --reference-plan "$work/plans/$model.plan" --json >"$work/two.json" 2>/dev/null
$py - "$work" "$rounds" <<'PY'
import json, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
rs = []
for r in range(1, rounds + 1):
    j = json.load(open(f"{work}/round-{r}.json"))
    assert j["errors"] == 0 and j["wrong_results"] == 0, j
    rs.append(j)
    print(f"round {r}: service p50 {j['latency_ms']['p50']:.1f} ms, p99 {j['latency_ms']['p99']:.1f} ms "
          f"({j['requests_per_second']:.2f} requests/s, server time p50 {j['server_ms']['p50']:.1f} ms) | "
          f"in-process p50 {j['in_process_ms']['p50']:.1f} ms, p99 {j['in_process_ms']['p99']:.1f} ms | "
          f"overhead at p50 {j['overhead_p50_percent']:+.1f} %, median pair ratio {j['median_pair_ratio']:.3f}, "
          f"outside the run p50 {j['outside_run_ms']['p50']:.2f} ms")
j = rs[0]
med = lambda f: statistics.median(f(x) for x in rs)
print(f"median of {rounds} rounds ({j['model']}, one client, {j['measured']} calls a round, "
      f"{j['threads']} threads, {j['kernel']} kernels):")
print(f"  service:    p50 {med(lambda x: x['latency_ms']['p50']):.1f} ms, "
      f"p99 {med(lambda x: x['latency_ms']['p99']):.1f} ms, "
      f"{1e3 / med(lambda x: x['latency_ms']['p50']):.2f} requests/s at p50")
print(f"  in-process: p50 {med(lambda x: x['in_process_ms']['p50']):.1f} ms, "
      f"p99 {med(lambda x: x['in_process_ms']['p99']):.1f} ms, "
      f"{1e3 / med(lambda x: x['in_process_ms']['p50']):.2f} requests/s at p50")
print(f"  service overhead at p50: {med(lambda x: x['overhead_p50_percent']):+.1f} % "
      f"(per-pair ratio {med(lambda x: x['median_pair_ratio']):.3f}); time outside the plan's run "
      f"(gRPC, transfer, token, keys, queue) p50 {med(lambda x: x['outside_run_ms']['p50']):.2f} ms")
t = json.load(open(f"{work}/two.json"))
assert t["errors"] == 0 and t["wrong_results"] == 0, t
print(f"two clients at once: {t['requests_per_second']:.2f} requests/s, p50 {t['latency_ms']['p50']:.1f} ms, "
      f"p99 {t['latency_ms']['p99']:.1f} ms")
PY
