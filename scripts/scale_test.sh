#!/usr/bin/env bash
# Scale-out and fault test on loopback (docs/scaling.md), bounded in count and
# time: `blindfold serve` replicas with one engine thread each
# (BLINDFOLD_THREADS=1, --workers 1) sharing one Redis key store (AOF,
# appendfsync always, as deploy/k8s/base/redis.conf), and `blindfold load`
# clients spreading calls over them with gRPC round_robin
# (--server ipv4:127.0.0.1:P1,127.0.0.1:P2 --lb round_robin: what a headless
# Service gives a client in Kubernetes).
#  1. throughput with 1 replica and with 2, SCALE_ROUNDS times in turn
#     (1, 2, 1, 2, ...); efficiency = rps(2) / (2 x rps(1)), from the medians;
#  2. a replica killed (SIGKILL) in the middle of the load: 0 failed calls
#     after the clients' retries, every result decrypted and checked;
#  3. a replica stopped with SIGTERM (drain, as in a rolling update) in the
#     middle of the load: 0 failed calls;
#  4. Redis killed (SIGKILL) and restarted on its files: every key record and
#     its digest as before (0 lost keys); a new replica, with an empty cache,
#     serves a client's key registered before the restart; load after the
#     restart has 0 failed calls.
# Prints a report and a JSON summary (SCALE_JSON=FILE keeps it). Exits 1 when
# a fault phase loses a call or a key. The efficiency is reported, not
# asserted: this machine has 2 cores that the clients share with the
# replicas (and other users).
#
#   bash scripts/scale_test.sh
#   SCALE_MODEL=cnn SCALE_REQUESTS=60 SCALE_ROUNDS=3 bash scripts/scale_test.sh
# The default model, mlp-relu (~120 ms a call on one thread), leaves the
# service path and the clients a small share; cnn-deep (~1 s a call) runs too:
#   SCALE_MODEL=cnn-deep SCALE_CLIENTS=2 SCALE_REQUESTS=40 SCALE_FAULT_REQUESTS=30 bash scripts/scale_test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
model=${SCALE_MODEL:-mlp-relu}
requests=${SCALE_REQUESTS:-60}
clients=${SCALE_CLIENTS:-4}
rounds=${SCALE_ROUNDS:-2}
fault_requests=${SCALE_FAULT_REQUESTS:-80}
max_seconds=${SCALE_MAX_SECONDS:-240}  # per load run
say() { echo "scale_test.sh: $*" >&2; }
die() { say "FAILED: $*"; exit 1; }
command -v redis-server >/dev/null || die "no redis-server (Debian package redis-server)"
command -v redis-cli >/dev/null || die "no redis-cli (Debian package redis-tools)"
# bf, py, work (removed on exit), the compiled plan, a token in BLINDFOLD_TOKEN.
. scripts/service_lib.sh
service_setup scale-test "$model"

declare -A pids=()  # name -> pid of what this script started
redis_pid=
cleanup() {
  local n
  for n in "${!pids[@]}"; do
    kill -TERM "${pids[$n]}" 2>/dev/null || true
  done
  for n in "${!pids[@]}"; do
    wait "${pids[$n]}" 2>/dev/null || true
  done
  if [ -n "$redis_pid" ]; then kill -TERM "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

guard_port() {  # NAME VALUE: a port number and nothing else
  [[ "$2" =~ ^[0-9]+$ ]] && [ "$2" -ge 1024 ] && [ "$2" -le 65535 ] || die "$1 is '$2', not a port"
}
free_port() {
  $py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
json_field() {  # FILE KEY
  $py -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# -- Redis --------------------------------------------------------------------
redis_port=$(free_port); guard_port redis_port "$redis_port"
redis_password=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
mkdir -p "$work/redis"
start_redis() {
  redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$work/redis" \
    --appendonly yes --appendfsync always --save '' --maxmemory-policy noeviction \
    --requirepass "$redis_password" --daemonize no --logfile "$work/redis.log" &
  redis_pid=$!
  for _ in $(seq 100); do
    REDISCLI_AUTH=$redis_password redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null | grep -q PONG && return
    sleep 0.1
  done
  die "redis-server did not answer on 127.0.0.1:$redis_port ($(tail -2 "$work/redis.log"))"
}
rcli() { REDISCLI_AUTH=$redis_password redis-cli -h 127.0.0.1 -p "$redis_port" "$@"; }
start_redis

# -- replicas -----------------------------------------------------------------
declare -A port=() mport=()
start_replica() {  # NAME [PORT]
  local n=$1 listen=127.0.0.1:${2:-0}
  rm -f "$work/$n.ready"
  BLINDFOLD_THREADS=1 BLINDFOLD_REDIS_PASSWORD=$redis_password \
    "$bf" serve --models "$work/plans" --tokens "$work/tokens.txt" --key-store redis \
    --redis "127.0.0.1:$redis_port" --workers 1 --queue 64 --drain-seconds 30 \
    --listen "$listen" --metrics-listen 127.0.0.1:0 --ready-file "$work/$n.ready" \
    2>>"$work/$n.log" &
  pids[$n]=$!
  for _ in $(seq 600); do
    [ -f "$work/$n.ready" ] && break
    kill -0 "${pids[$n]}" 2>/dev/null || die "replica $n exited: $(tail -2 "$work/$n.log")"
    sleep 0.05
  done
  [ -f "$work/$n.ready" ] || die "replica $n not ready after 30 s"
  port[$n]=$(json_field "$work/$n.ready" port); guard_port "port of $n" "${port[$n]}"
  mport[$n]=$(json_field "$work/$n.ready" metrics_port); guard_port "metrics port of $n" "${mport[$n]}"
}
stop_replica() {  # NAME SIGNAL
  kill "-$2" "${pids[$1]}" 2>/dev/null || true
  wait "${pids[$1]}" 2>/dev/null || true
  unset "pids[$1]"
}
target() {  # NAMES...: a gRPC target of those replicas, loopback only
  local t="ipv4:" n
  for n in "$@"; do t+="127.0.0.1:${port[$n]},"; done
  echo "${t%,}"
}
served() {  # NAME: OK Infer calls the replica counted
  $py - "${mport[$1]}" <<'PY'
import sys, urllib.request
port = int(sys.argv[1]); assert 1024 <= port <= 65535
try:
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
except OSError:
    print(-1); sys.exit()
want = 'blindfold_requests_total{method="Infer",code="OK"}'
print(int(float(next((l.split()[-1] for l in body.splitlines() if l.startswith(want)), 0))))
PY
}
load() {  # OUT REQUESTS TARGET [flags...]
  local out=$1 n=$2 t=$3; shift 3
  timeout $((max_seconds + 120)) "$bf" load --server "$t" --lb round_robin --model "$model" \
    --clients "$clients" --requests "$n" --warmup "$clients" --max-seconds "$max_seconds" \
    --reference-plan "$work/plans/$model.plan" --json "$@" >"$out" 2>>"$work/load.log" ||
    die "blindfold load ($out): $(tail -3 "$work/load.log")"
}

start_replica a
start_replica b
say "Redis on 127.0.0.1:$redis_port (AOF, fsync always); replicas a (127.0.0.1:${port[a]}) and b (127.0.0.1:${port[b]}), one engine thread each; model $model; $clients clients"

# -- 1. throughput, 1 and 2 replicas ----------------------------------------------
# CPU time the replicas spent (user + system, clock ticks): the cost of a
# call with 1 replica and with 2, whatever else the machine was running.
ticks() { local t=0 n; for n in a b; do t=$((t + $(awk '{print $14 + $15}' "/proc/${pids[$n]}/stat"))); done; echo $t; }
for r in $(seq "$rounds"); do
  c0=$(ticks); l0=$(cut -d' ' -f1 /proc/loadavg)
  load "$work/one.$r.json" "$requests" "$(target a)"
  c1=$(ticks); l1=$(cut -d' ' -f1 /proc/loadavg)
  a0=$(served a); b0=$(served b)
  load "$work/two.$r.json" "$requests" "$(target a b)"
  a1=$(served a); b1=$(served b)
  c2=$(ticks); l2=$(cut -d' ' -f1 /proc/loadavg)
  echo "$((a1 - a0)) $((b1 - b0))" >"$work/split.$r"
  [ $((a1 - a0)) -gt 0 ] && [ $((b1 - b0)) -gt 0 ] ||
    die "round_robin left a replica idle (calls a/b: $((a1 - a0))/$((b1 - b0)))"
  echo "$((c1 - c0)) $((c2 - c1)) $(getconf CLK_TCK) $l0 $l1 $l2" >"$work/cpu.$r"
  say "round $r: 1 replica $(json_field "$work/one.$r.json" requests_per_second | cut -c1-6) req/s, 2 replicas $(json_field "$work/two.$r.json" requests_per_second | cut -c1-6) req/s (calls a/b: $((a1 - a0))/$((b1 - b0)))"
done

# -- 2. and 3. a replica killed / drained mid-load -----------------------------------
fault() {  # PHASE SIGNAL VICTIM
  local phase=$1 sig=$2 victim=$3 start before
  load "$work/$phase.json" "$fault_requests" "$(target a b)" --attempts 8 &
  local lp=$!
  start=$(( $(served a) + $(served b) ))
  for _ in $(seq 1200); do
    # A third of the calls done: the victim is in the middle of serving.
    [ $(( $(served a) + $(served b) - start )) -ge $((fault_requests / 3)) ] && break
    kill -0 "$lp" 2>/dev/null || break
    sleep 0.1
  done
  before=$(served "$victim")
  kill -0 "$lp" 2>/dev/null || die "phase $phase: the load ended before the replica was stopped (raise SCALE_FAULT_REQUESTS)"
  stop_replica "$victim" "$sig"
  wait "$lp" || die "the load of phase $phase failed"
  echo "$before" >"$work/$phase.victim"
}
fault kill KILL b
say "replica b killed (SIGKILL) mid-load after serving $(cat "$work/kill.victim") calls: $(json_field "$work/kill.json" errors) failed calls, $(json_field "$work/kill.json" retries) retries, codes $(json_field "$work/kill.json" codes)"
start_replica b
fault drain TERM a
say "replica a stopped (SIGTERM, drain) mid-load after serving $(cat "$work/drain.victim") calls: $(json_field "$work/drain.json" errors) failed calls, $(json_field "$work/drain.json" retries) retries"
start_replica a

# -- 4. Redis killed and restarted ---------------------------------------------------
"$bf" infer --server "127.0.0.1:${port[a]}" --model "$model" --images 4 --key-dir "$work/keys" \
  --json >"$work/infer.before.json" 2>>"$work/infer.log" || die "blindfold infer before the Redis restart"
key_before=$(json_field "$work/infer.before.json" key_id)
snapshot() {  # every key record and its digest, sorted
  local k
  rcli --scan --pattern 'blindfold:key:*' | grep -v ':chunk:' | sort | while read -r k; do
    echo "$k $(rcli hget "$k" digest)"
  done
  echo "chunks $(rcli --scan --pattern 'blindfold:key:*:chunk:*' | wc -l)"
}
snapshot >"$work/keys.before"
records=$(grep -c '^blindfold:key:' "$work/keys.before" || true)
[ "$records" -ge 1 ] || die "no key records in Redis before its restart"
kill -KILL "$redis_pid"; wait "$redis_pid" 2>/dev/null || true; redis_pid=
start_redis
snapshot >"$work/keys.after"
lost=$(comm -23 "$work/keys.before" "$work/keys.after" | wc -l)
[ "$lost" -eq 0 ] || die "Redis lost $lost key records or chunks through its restart: $(comm -23 "$work/keys.before" "$work/keys.after" | head -3)"
# Replica a replaced by a new process on its address (a pod replaced behind
# its Service): nothing cached, every key from Redis; the client keeps its
# key id (its key directory is per server address).
old_port=${port[a]}
stop_replica a TERM
start_replica a "$old_port"
"$bf" infer --server "127.0.0.1:${port[a]}" --model "$model" --images 4 --key-dir "$work/keys" \
  --json >"$work/infer.after.json" 2>>"$work/infer.log" || die "blindfold infer after the Redis restart"
key_after=$(json_field "$work/infer.after.json" key_id)
[ "$key_before" = "$key_after" ] || die "the client's key $key_before was not served after the restart (new key $key_after)"
load "$work/after.json" "$requests" "$(target a b)" --attempts 8
say "Redis killed (SIGKILL) and restarted: $records key records ($(tail -1 "$work/keys.after")) before and after, 0 lost; a new replica a served the client's key $key_after; $(json_field "$work/after.json" errors) failed calls of $(json_field "$work/after.json" requests_sent) after the restart"

# -- report ----------------------------------------------------------------------
$py - "$work" "$rounds" "$model" "$clients" "${SCALE_JSON:-}" <<'PY'
import json, os, statistics, sys
work, rounds, model, clients, keep = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
ld = lambda n: json.load(open(os.path.join(work, n)))
one = [ld(f"one.{r}.json") for r in range(1, rounds + 1)]
two = [ld(f"two.{r}.json") for r in range(1, rounds + 1)]
r1 = statistics.median(x["requests_per_second"] for x in one)
r2 = statistics.median(x["requests_per_second"] for x in two)
kill, drain, after = ld("kill.json"), ld("drain.json"), ld("after.json")
runs = one + two + [kill, drain, after]
summary = {
    "model": model, "clients": clients, "rounds": rounds,
    "rps_1_replica": [round(x["requests_per_second"], 3) for x in one],
    "rps_2_replicas": [round(x["requests_per_second"], 3) for x in two],
    "efficiency": round(r2 / (2 * r1), 3),
    "server_ms_p50_1": statistics.median(x["server_ms"]["p50"] for x in one),
    "server_ms_p50_2": statistics.median(x["server_ms"]["p50"] for x in two),
    "latency_ms_p50_1": statistics.median(x["latency_ms"]["p50"] for x in one),
    "latency_ms_p50_2": statistics.median(x["latency_ms"]["p50"] for x in two),
    "kill": {k: kill[k] for k in ("requests_sent", "errors", "retries", "wrong_results", "codes")},
    "drain": {k: drain[k] for k in ("requests_sent", "errors", "retries", "wrong_results", "codes")},
    "after_redis_restart": {k: after[k] for k in ("requests_sent", "errors", "wrong_results")},
    "wrong_results": sum(x["wrong_results"] for x in runs),
}
cpu1, cpu2, loads = [], [], []
for r in range(1, rounds + 1):
    t1, t2, hz, *la = open(os.path.join(work, f"cpu.{r}")).read().split()
    cpu1.append(int(t1) / int(hz) / one[r - 1]["requests_sent"] * 1e3)
    cpu2.append(int(t2) / int(hz) / two[r - 1]["requests_sent"] * 1e3)
    loads += [float(x) for x in la]
    a, b = open(os.path.join(work, f"split.{r}")).read().split()
    summary.setdefault("calls_a_b_2_replicas", []).append([int(a), int(b)])
summary["replica_cpu_ms_per_call_1"] = round(statistics.median(cpu1), 1)
summary["replica_cpu_ms_per_call_2"] = round(statistics.median(cpu2), 1)
summary["load_average_1min"] = [min(loads), max(loads)]
print(f"scale_test.sh: {model}, {clients} clients, one engine thread per replica, {rounds} rounds")
print(f"  1 replica : {', '.join(f'{x:.2f}' for x in summary['rps_1_replica'])} req/s (median {r1:.2f}); "
      f"server time p50 {summary['server_ms_p50_1']:.0f} ms")
print(f"  2 replicas: {', '.join(f'{x:.2f}' for x in summary['rps_2_replicas'])} req/s (median {r2:.2f}); "
      f"server time p50 {summary['server_ms_p50_2']:.0f} ms")
print(f"  scaling efficiency 1 -> 2 replicas: {summary['efficiency']:.3f} (calls per replica "
      f"with 2: {summary['calls_a_b_2_replicas']})")
print(f"  replica CPU per call: {summary['replica_cpu_ms_per_call_1']:.0f} ms with 1 replica, "
      f"{summary['replica_cpu_ms_per_call_2']:.0f} ms with 2; machine load average (1 min) "
      f"{min(loads):.1f} to {max(loads):.1f} on {os.cpu_count()} cores during phase 1")
print(f"  replica SIGKILL mid-load: {kill['requests_sent']} calls, {kill['errors']} failed, "
      f"{kill['retries']} retried; SIGTERM mid-load: {drain['requests_sent']} calls, "
      f"{drain['errors']} failed, {drain['retries']} retried")
print(f"  Redis SIGKILL + restart: 0 lost keys; after it {after['requests_sent']} calls, {after['errors']} failed")
print(f"  every result decrypted and checked: {summary['wrong_results']} wrong")
print("SCALE_JSON " + json.dumps(summary))
if keep:
    json.dump(summary, open(keep, "w"), indent=1)
ok = (kill["errors"] == 0 and drain["errors"] == 0 and after["errors"] == 0
      and summary["wrong_results"] == 0)
sys.exit(0 if ok else "scale_test.sh: FAILED: failed calls or wrong results in a fault phase")
PY
