#!/usr/bin/env bash
# Makes the secret material the Kustomize base turns into Secrets, in
# deploy/k8s/base/secrets/ (or DIR/base/secrets/ for a copy of deploy/k8s):
#   tokens           the server's bearer-token file (hashes only)
#   redis-password   Redis's requirepass, 32 random bytes as hex
#   ca.crt           a private CA (its key stays in clients/, for new certs)
#   tls.crt, tls.key the server's certificate (ECDSA P-256, one year) for the
#                    names clients use in and out of the cluster
# and, in DIR/clients/ (never part of a Secret): the client's token and the
# CA key. Files are 0600. Existing files are kept unless --force.
#
#   bash deploy/k8s/make_secrets.sh [--dir K8S_DIR] [--client NAME] [--namespace NS] [--force]
# Needs the `blindfold` CLI ($BLINDFOLD, default build/tools/blindfold) and openssl.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$here
client=demo
namespaces=(blindfold blindfold-dev)
force=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir=${2:?--dir needs a value}; shift 2 ;;
    --client) client=${2:?--client needs a value}; shift 2 ;;
    --namespace) namespaces+=("${2:?--namespace needs a value}"); shift 2 ;;
    --force) force=1; shift ;;
    *) echo "make_secrets.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
bf=${BLINDFOLD:-$here/../../build/tools/blindfold}
[ -x "$bf" ] || { echo "make_secrets.sh: no blindfold CLI at $bf (build it, or set BLINDFOLD)" >&2; exit 1; }
command -v openssl >/dev/null || { echo "make_secrets.sh: needs openssl" >&2; exit 1; }
[ -d "$dir/base" ] || { echo "make_secrets.sh: $dir has no base/ (give the deploy/k8s folder)" >&2; exit 1; }
out=$dir/base/secrets
clients=$dir/clients
mkdir -p "$out" "$clients"
chmod 700 "$out" "$clients"
umask 077

if [ "$force" = 1 ] || [ ! -s "$out/tokens" ]; then
  : >"$out/tokens"
  "$bf" token --client "$client" --tokens "$out/tokens" >"$clients/$client.token" 2>/dev/null
  echo "make_secrets.sh: token of client '$client' in $clients/$client.token" >&2
fi
if [ "$force" = 1 ] || [ ! -s "$out/redis-password" ]; then
  openssl rand -hex 32 | tr -d '\n' >"$out/redis-password"
fi
if [ "$force" = 1 ] || [ ! -s "$out/tls.crt" ]; then
  sans="DNS:blindfold,DNS:localhost,IP:127.0.0.1"
  for ns in "${namespaces[@]}"; do
    for svc in blindfold blindfold-headless; do
      sans="$sans,DNS:$svc.$ns,DNS:$svc.$ns.svc,DNS:$svc.$ns.svc.cluster.local"
    done
  done
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj "/CN=Blindfold private CA" -keyout "$clients/ca.key" -out "$out/ca.crt" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "/CN=blindfold" -keyout "$out/tls.key" -out "$tmp/server.csr" 2>/dev/null
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\nbasicConstraints=CA:FALSE\n' \
    "$sans" >"$tmp/ext"
  openssl x509 -req -in "$tmp/server.csr" -CA "$out/ca.crt" -CAkey "$clients/ca.key" \
    -CAcreateserial -days 365 -extfile "$tmp/ext" -out "$out/tls.crt" 2>/dev/null
  rm -f "$out/ca.srl"
  cp "$out/ca.crt" "$clients/ca.crt"
fi
echo "make_secrets.sh: secrets in $out" >&2
