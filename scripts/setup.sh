#!/usr/bin/env bash
# Installs every Debian package Blindfold needs to build, test, benchmark, fuzz and
# train its models. Idempotent; run as root on Debian bookworm (uses sudo otherwise).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libabsl-dev libsodium-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev
  libprotobuf-dev protobuf-compiler libonnx-dev
  libcli11-dev nlohmann-json3-dev
  libgrpc++-dev libgrpc-dev protobuf-compiler-grpc grpc-proto
  libsqlite3-dev libhiredis-dev redis-server openssl
  pybind11-dev python3-dev python3-grpcio python3-protobuf
  python3 python3-numpy python3-torch python3-onnx python3-sklearn python3-matplotlib
  dataset-fashion-mnist
  python3-yaml
  podman runc catatonit netavark aardvark-dns iptables mmdebstrap
)
# The deployment tests (docs/deploy.md) render Kustomize overlays with
# `kubectl kustomize`: Debian's kubernetes-client, unless a kubectl is
# already installed (a kubectl from another package owns /usr/bin/kubectl).
if ! command -v kubectl >/dev/null; then
  PACKAGES+=(kubernetes-client)
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup.sh: run as root (or install sudo)" >&2; exit 1; }
  SUDO="sudo"
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup.sh: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

echo "setup.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# redis-server is installed for its binary: the service tests start their
# own on loopback ports in temporary directories. Keep the package from
# starting a system-wide one (policy-rc.d, the Debian way; only when the
# machine has no policy of its own).
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
  own_policy=1
fi
cleanup() { if [ "$own_policy" = 1 ]; then $SUDO rm -f "$policy"; fi; }
trap cleanup EXIT
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
