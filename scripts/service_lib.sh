# Sourced by scripts/load_test.sh and scripts/service_bench.sh (not run on
# its own): a temporary work directory removed on exit, a compiled plan, a
# bearer token (exported as BLINDFOLD_TOKEN), and a `blindfold serve` on
# loopback ports that is stopped on exit.
#   service_setup NAME MODEL     sets bf, py, work; compiles MODEL
#   start_server FLAGS...        sets server_pid, port, mport
#   stop_server
bf=${BUILD_DIR:-build}/tools/blindfold
py=/usr/bin/python3
server_pid=

service_cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"; wait "$server_pid" || true
  fi
  rm -rf "$work"
}

service_setup() {  # name model
  [ -x "$bf" ] || { echo "$1: no $bf (build first)" >&2; exit 1; }
  work=$(mktemp -d "${TMPDIR:-/tmp}/blindfold-$1.XXXXXX")
  trap service_cleanup EXIT
  mkdir -p "$work/plans"
  "$bf" compile "models/$2/$2.onnx" -o "$work/plans/$2.plan" >/dev/null
  BLINDFOLD_TOKEN=$("$bf" token --client "$1" --tokens "$work/tokens.txt" 2>/dev/null)
  export BLINDFOLD_TOKEN
}

start_server() {  # flags...
  rm -f "$work/ready.json"
  "$bf" serve --models "$work/plans" --data-dir "$work/data" --tokens "$work/tokens.txt" \
    --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 --ready-file "$work/ready.json" \
    "$@" 2>>"$work/server.log" &
  server_pid=$!
  for _ in $(seq 600); do
    [ -f "$work/ready.json" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.05
  done
  port=$($py -c "import json,sys; print(json.load(open(sys.argv[1]))['port'])" "$work/ready.json")
  mport=$($py -c "import json,sys; print(json.load(open(sys.argv[1]))['metrics_port'])" "$work/ready.json")
}

stop_server() {
  kill -TERM "$server_pid"; wait "$server_pid"; server_pid=
}
