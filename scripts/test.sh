#!/usr/bin/env bash
# Sets up a fresh Debian machine and runs Blindfold's whole test suite:
# installs packages, builds (Release, Ninja), runs ctest (unit, cross-layer,
# examples) and a short libFuzzer run of every deserializer and the ONNX importer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

JOBS=${JOBS:-$(nproc)}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$JOBS"
ctest --test-dir build --output-on-failure -j "$JOBS"

if [ -d fuzz ]; then
  bash scripts/fuzz.sh --smoke
fi
echo "test.sh: all tests passed"
