#!/usr/bin/env bash
# Sets up a fresh Debian machine and runs Blindfold's whole test suite:
# installs packages, builds (Release, Ninja), runs ctest (unit, cross-layer,
# examples), the engine's tests cross-built for aarch64 under qemu (the NEON
# kernels), and a short libFuzzer run of every deserializer and the ONNX importer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

JOBS=${JOBS:-$(nproc)}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$JOBS"
ctest --test-dir build --output-on-failure -j "$JOBS"

# The ARM NEON kernels: cross-built for aarch64 and run under qemu-user
# (neon and portable paths; a few minutes).
ARM_CROSS_OPTIONAL=1 JOBS="$JOBS" bash scripts/arm_cross_test.sh

if [ -d fuzz ]; then
  bash scripts/fuzz.sh --smoke
fi
echo "test.sh: all tests passed"
