#!/usr/bin/env bash
# Cross-builds the engine's tests (base, math, ring, ckks) for aarch64 and
# runs them under qemu-user with BLINDFOLD_KERNEL=neon and =portable, so the
# NEON kernels (math/*_neon.cc) are tested on an x86-64 machine
# (docs/design/avx2-kernels.md, "ARM NEON"). Run as root (or with sudo) on
# Debian bookworm amd64; installs what it needs: the cross compiler,
# qemu-user, and the arm64 builds of abseil, libsodium and GoogleTest
# (dpkg multiarch). Builds into build-arm/ (cmake/aarch64-linux-gnu.cmake).
#
#   bash scripts/arm_cross_test.sh            # JOBS=k sets build parallelism
#
# qemu emulates the CPU: timings under it say nothing about an ARM server.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "arm_cross_test.sh: run as root (or install sudo)" >&2; exit 1; }
  SUDO="sudo"
fi

PACKAGES=(
  cmake ninja-build pkg-config
  g++-aarch64-linux-gnu qemu-user
  libabsl-dev:arm64 libsodium-dev:arm64 libgtest-dev:arm64
)
added_arch=0
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  echo "arm_cross_test.sh: adding the arm64 architecture to dpkg"
  $SUDO dpkg --add-architecture arm64
  added_arch=1
fi
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "arm_cross_test.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! { $SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; }; then
    # Leave apt as it was: an arm64 architecture without indices would make
    # every later `apt-get update` on this machine fail.
    if [ "$added_arch" = 1 ]; then
      $SUDO dpkg --remove-architecture arm64 || true
      $SUDO apt-get update >/dev/null 2>&1 || true
    fi
    # scripts/test.sh sets ARM_CROSS_OPTIONAL=1: a machine whose mirror has
    # no arm64 packages reports the NEON path as skipped, loudly.
    if [ "${ARM_CROSS_OPTIONAL:-0}" = 1 ]; then
      echo "arm_cross_test.sh: SKIPPED: the NEON path is untested here (could not install ${missing[*]})" >&2
      exit 0
    fi
    echo "arm_cross_test.sh: could not install ${missing[*]}" >&2
    exit 1
  fi
fi

JOBS=${JOBS:-$(nproc)}
BUILD=build-arm
TESTS=(base_test math_test ring_test ckks_test ckks_precision_test ckks_noise_flooding_test)

start=$(date +%s)
# Engine only: the front end (ONNX, gRPC, ...) and the benchmarks would need
# many more arm64 packages and are not what this run checks.
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
  -DBLINDFOLD_BUILD_FRONTEND=OFF -DBLINDFOLD_BUILD_BENCH=OFF
cmake --build "$BUILD" -j "$JOBS" --target "${TESTS[@]}"
built=$(date +%s)

# ctest runs each binary whole under qemu-aarch64 (the toolchain's
# CMAKE_CROSSCOMPILING_EMULATOR): BLINDFOLD_KERNEL=portable and =neon (the
# *_kernels runs of blindfold_test's BOTH_KERNELS) and math's checks of the
# dispatch (a forced path the CPU lacks is reported, an unknown one fails,
# hidden SIMD falls back to portable, no weak symbols in the SIMD objects).
ctest --test-dir "$BUILD" --output-on-failure -j "$JOBS" \
  -R '^(.*_(portable|neon)_kernels|math_test_.*|math_simd_.*)$' \
  -E '_avx2_kernels$' || status=$?
# base_test (no kernels; thread pool, CSPRNG, buffers) once, on the default
# path (neon).
if [ "${status:-0}" -eq 0 ]; then
  qemu-aarch64 "$BUILD/base/base_test" --gtest_brief=1 || status=$?
fi
done_at=$(date +%s)

echo "arm_cross_test.sh: build $((built - start)) s, tests under qemu $((done_at - built)) s"
if [ "${status:-0}" -ne 0 ]; then
  echo "arm_cross_test.sh: FAILED" >&2
  exit 1
fi
echo "arm_cross_test.sh: all aarch64 tests passed (neon and portable kernels, under qemu-aarch64)"
