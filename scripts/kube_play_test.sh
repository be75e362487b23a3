#!/usr/bin/env bash
# The container test (docs/deploy.md): the dev overlay of deploy/k8s, rendered
# by `kubectl kustomize`, played by podman on this machine, and a client
# classifying images through it:
#  1. images: localhost/blindfold:dev and localhost/blindfold-redis:dev, made
#     with scripts/container_build.sh --prebuilt BUILD_DIR (the binaries of
#     this build; KUBE_PLAY_BUILD=full compiles inside the image instead;
#     KUBE_PLAY_BUILD=none uses the images as they are);
#  2. secrets from deploy/k8s/make_secrets.sh in a copy of deploy/k8s, the
#     rendering, deploy/k8s/podman_play.py (what podman 4.3 cannot play
#     becomes what it can; the rest is left out and listed);
#  3. Redis, then the server, on a podman network of their own; the server's
#     gRPC and metrics ports published on 127.0.0.1 only;
#  4. checks: the server runs as uid 10001 with a read-only root filesystem,
#     its health check (the probe's command) passes, `blindfold infer` over
#     TLS with a bearer token classifies KUBE_PLAY_IMAGES test images
#     (accuracy reported), the key is in Redis, the metrics count the calls;
#  5. Redis is taken down and played again on the same volume, the server
#     restarted: the same client keys still work (key id unchanged), 0 lost.
# Everything is removed at the end. Exits 77 (CTest: skipped), saying why,
# when podman cannot run here (not root, or `podman info` fails) or when
# BLINDFOLD_SKIP_CONTAINER_TESTS is set.
#
#   bash scripts/kube_play_test.sh            # BUILD_DIR=build
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${BUILD_DIR:-build}
[[ "$build" = /* ]] || build=$root/$build
bf=$build/tools/blindfold
images=${KUBE_PLAY_IMAGES:-20}
model=${KUBE_PLAY_MODEL:-cnn-small}
mode=${KUBE_PLAY_BUILD:-prebuilt}
say() { echo "kube_play_test.sh: $*" >&2; }
die() { say "FAILED: $*"; exit 1; }
skip() { say "SKIPPED: $*"; exit 77; }

[ -x "$bf" ] || die "no $bf (build first: cmake --build $build --target blindfold)"
[ -z "${BLINDFOLD_SKIP_CONTAINER_TESTS:-}" ] || skip "BLINDFOLD_SKIP_CONTAINER_TESTS is set"
[ "$(id -u)" -eq 0 ] || skip "podman's networks and kube play need root here (this user is $(id -un))"
command -v kubectl >/dev/null || die "no kubectl (Debian's kubernetes-client has 'kubectl kustomize')"
/usr/bin/python3 -c 'import yaml' 2>/dev/null || die "python3-yaml is missing"

# -- 1. images ------------------------------------------------------------------
# Whether podman runs here at all (a machine without the kernel features or
# privileges it needs is a skip; a broken Containerfile or manifest after
# this point is a failure).
bash scripts/container_build.sh --setup-only >&2 || die "scripts/container_build.sh --setup-only failed"
if ! podman info >/dev/null 2>"$build/podman-info.log"; then
  skip "podman is installed but 'podman info' fails here: $(tail -1 "$build/podman-info.log")"
fi
case "$mode" in
  prebuilt) bash scripts/container_build.sh --prebuilt "$build" >&2 ||
              die "scripts/container_build.sh --prebuilt $build failed (see above)" ;;
  full) bash scripts/container_build.sh >&2 || die "scripts/container_build.sh failed (see above)" ;;
  none) ;;
  *) die "KUBE_PLAY_BUILD is '$mode': prebuilt, full or none" ;;
esac
for img in localhost/blindfold:dev localhost/blindfold-redis:dev; do
  podman image exists "$img" || die "no image $img"
done
for pod in blindfold-redis blindfold-server-pod; do
  if podman pod exists "$pod"; then
    die "a pod named $pod already runs (another play?); remove it: podman pod rm -f $pod"
  fi
done
if podman volume exists data-blindfold-redis-0; then
  die "the volume data-blindfold-redis-0 exists (another play?); remove it: podman volume rm data-blindfold-redis-0"
fi

# -- 2. rendering ---------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/blindfold-kube-play.XXXXXX")
chmod 755 "$work"  # the containers' users traverse it to their mounted files
net="blindfold-kp-$$"
played=()
cleanup() {
  local i
  for ((i = ${#played[@]} - 1; i >= 0; i--)); do
    podman kube play --down "${played[$i]}" >/dev/null 2>&1 || true
  done
  podman volume rm -f data-blindfold-redis-0 >/dev/null 2>&1 || true
  podman network rm -f "$net" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
guard_port() {  # NAME VALUE: a port number and nothing else
  [[ "$2" =~ ^[0-9]+$ ]] && [ "$2" -ge 1024 ] && [ "$2" -le 65535 ] || die "$1 is '$2', not a port"
}
grpc_port=$(free_port); guard_port grpc_port "$grpc_port"
metrics_port=$(free_port); guard_port metrics_port "$metrics_port"
[ "$grpc_port" != "$metrics_port" ] || die "the same free port twice"
server="127.0.0.1:$grpc_port"

cp -r deploy/k8s "$work/k8s"
BLINDFOLD=$bf bash "$work/k8s/make_secrets.sh" --dir "$work/k8s" --client kube-play 2>>"$work/log"
kubectl kustomize "$work/k8s/overlays/dev" >"$work/rendered.yaml" 2>>"$work/log" ||
  die "kubectl kustomize deploy/k8s/overlays/dev failed: $(tail -3 "$work/log")"
/usr/bin/python3 deploy/k8s/podman_play.py "$work/rendered.yaml" --out "$work/play" \
  --grpc-port "$grpc_port" --metrics-port "$metrics_port"

# -- 3. play --------------------------------------------------------------------
t0=$(date +%s)
podman network create "$net" >/dev/null
play() {
  played+=("$1")
  podman kube play --network "$net" "$1" >>"$work/log" 2>&1 || die "podman kube play $1: $(tail -3 "$work/log")"
}
wait_for() {  # WHAT SECONDS COMMAND...
  local what=$1 seconds=$2; shift 2
  local end=$(( $(date +%s) + seconds ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || die "$what not ready after $seconds s"
    sleep 1
  done
}
redis_ping() { podman exec blindfold-redis-redis sh -c 'redis-cli ping | grep -q PONG'; }
client=(--server "$server" --tls-ca "$work/k8s/clients/ca.crt" --tls-server-name blindfold)
healthy() { "$bf" health "${client[@]}"; }

podman kube play "$work/play/redis-volume.yaml" >>"$work/log" 2>&1 || die "podman kube play redis-volume.yaml: $(tail -3 "$work/log")"
play "$work/play/redis.yaml"
wait_for "Redis" 60 redis_ping
play "$work/play/server.yaml"
ctr=blindfold-server-pod-0-server
wait_for "the server ($server)" 120 healthy
say "Redis and the server up in $(( $(date +%s) - t0 )) s (server at $server, metrics at 127.0.0.1:$metrics_port)"

# -- 4. checks ------------------------------------------------------------------
user=$(podman exec "$ctr" id -u)
[ "$user" = 10001 ] || die "the server runs as uid $user, expected 10001"
ro=$(podman inspect "$ctr" --format '{{.HostConfig.ReadonlyRootfs}}')
[ "$ro" = true ] || die "the server's root filesystem is not read-only"
if podman exec "$ctr" touch /usr/local/bin/written 2>/dev/null; then
  die "the server could write to its root filesystem"
fi
podman exec "$ctr" touch /var/lib/blindfold/written || die "the data directory is not writable"
redis_user=$(podman exec blindfold-redis-redis id -u)
[ "$redis_user" = 999 ] || die "Redis runs as uid $redis_user, expected 999"
podman healthcheck run "$ctr" >/dev/null 2>>"$work/log" || die "the server's health check (its livenessProbe) fails"
say "server: uid $user, read-only root filesystem, data directory writable, health check passes; Redis: uid $redis_user"

infer() {
  BLINDFOLD_TOKEN= "$bf" infer "${client[@]}" --token-file "$work/k8s/clients/kube-play.token" \
    --model "$model" --images "$images" --key-dir "$work/keys" --json 2>>"$work/log"
}
infer >"$work/infer1.json" || die "blindfold infer through the played server: $(tail -3 "$work/log")"
read -r n acc key1 < <(/usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["images"], r["accuracy"], r["key_id"])' "$work/infer1.json")
[ "$n" = "$images" ] || die "$n results for $images images"
say "blindfold infer over TLS with a token: $n images of $model classified, accuracy $acc, keys $key1"
keys_in_redis=$(podman exec blindfold-redis-redis redis-cli --scan --pattern 'blindfold:key:*' | grep -cv ':chunk:' || true)
[ "$keys_in_redis" -ge 1 ] || die "no key record in Redis"
calls=$(/usr/bin/python3 - "$metrics_port" "$model" <<'PY'
import sys, urllib.request
port, model = int(sys.argv[1]), sys.argv[2]
assert 1024 <= port <= 65535
body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
want = 'blindfold_requests_total{method="Infer",code="OK"}'
print(next((l.split()[-1] for l in body.splitlines() if l.startswith(want)), "missing"))
PY
)
[ "$calls" = "$images" ] || die "the server's metrics count $calls OK Infer calls, expected $images"
say "Redis holds $keys_in_redis key record(s); the metrics count $calls OK Infer calls"

# -- 5. restarts ------------------------------------------------------------------
before=$(podman exec blindfold-redis-redis redis-cli --scan --pattern 'blindfold:*' | sort)
podman kube play --down "$work/play/redis.yaml" >>"$work/log" 2>&1
podman kube play --down "$work/play/server.yaml" >>"$work/log" 2>&1
podman volume exists data-blindfold-redis-0 || die "the Redis volume went with its pod"
play "$work/play/redis.yaml"
wait_for "Redis (restarted)" 60 redis_ping
after=$(podman exec blindfold-redis-redis redis-cli --scan --pattern 'blindfold:*' | sort)
[ "$before" = "$after" ] || die "Redis lost keys through its restart: $(comm -23 <(echo "$before") <(echo "$after") | wc -l) missing"
play "$work/play/server.yaml"
wait_for "the server (restarted)" 120 healthy
infer >"$work/infer2.json" || die "blindfold infer after the restarts: $(tail -3 "$work/log")"
key2=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["key_id"])' "$work/infer2.json")
[ "$key1" = "$key2" ] || die "the client had to register new keys ($key2, was $key1): keys were lost"
grep -q "registering new ones" "$work/log" && die "the client's kept keys stopped working"
say "Redis and the server restarted: $(echo "$after" | wc -l) Redis keys before and after, the client's key $key2 still served"
say "passed in $(( $(date +%s) - t0 )) s after the images"
