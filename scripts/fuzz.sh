#!/usr/bin/env bash
# Builds Blindfold's libFuzzer targets (one per deserializer of
# ckks/serialization.h, and the ONNX importer) with clang, ASan and UBSan in
# build-fuzz/, and runs
# each over a temporary copy of its committed seed corpus (fuzz/corpus/<name>/;
# new inputs go to the copy, never into the repository). Fails if any
# fuzzer finds a crash, sanitizer report, leak, timeout or a round trip that
# is not byte-identical; reproducers are kept in build-fuzz/artifacts/.
#
#   bash scripts/fuzz.sh --smoke     # ~20 s per fuzzer (FUZZ_SMOKE_SECONDS)
#   bash scripts/fuzz.sh             # FUZZ_SECONDS per fuzzer, default 300
#   bash scripts/fuzz.sh ciphertext  # only the named fuzzers (any mode)
#
# Environment: FUZZ_SECONDS, FUZZ_SMOKE_SECONDS, FUZZ_BUILD_DIR (build-fuzz),
# JOBS (build parallelism, default nproc).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-300}
mode=long
targets=()
for arg in "$@"; do
  case "$arg" in
    --smoke) mode=smoke; seconds=${FUZZ_SMOKE_SECONDS:-20} ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $arg" >&2; exit 2 ;;
    *) targets+=("$arg") ;;
  esac
done
if [ ${#targets[@]} -eq 0 ]; then
  targets=(parameters plaintext ciphertext compact_ciphertext public_key relin_key galois_keys
           onnx_import plan request_decoding)
fi

build=${FUZZ_BUILD_DIR:-build-fuzz}
jobs=${JOBS:-$(nproc)}

run() {
  echo "+ $*"
  "$@"
}

command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not found (run scripts/setup.sh)" >&2; exit 1; }

echo "fuzz.sh: $mode run, ${seconds}s per fuzzer: ${targets[*]}"
run env CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja \
  -DBLINDFOLD_BUILD_FUZZ=ON -DBLINDFOLD_BUILD_TESTS=OFF \
  -DBLINDFOLD_BUILD_BENCH=OFF -DBLINDFOLD_BUILD_FRONTEND=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo
build_targets=()
for t in "${targets[@]}"; do build_targets+=("${t}_fuzzer"); done
run cmake --build "$build" -j "$jobs" --target "${build_targets[@]}"

work=$(mktemp -d "${TMPDIR:-/tmp}/blindfold-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
artifacts="$build/artifacts"
mkdir -p "$artifacts"

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

failed=()
summary=()
for t in "${targets[@]}"; do
  corpus="fuzz/corpus/$t"
  [ -d "$corpus" ] || { echo "fuzz.sh: no corpus $corpus" >&2; exit 1; }
  mkdir -p "$work/$t"
  cp "$corpus"/* "$work/$t/"
  if [ "$t" = onnx_import ]; then
    # Real exported models as seeds: the two smallest shipped ones.
    cp models/logreg/logreg.onnx models/cnn-small/cnn-small.onnx "$work/$t/"
  fi
  log="$work/$t.log"
  echo
  cmd=("$build/fuzz/${t}_fuzzer" -max_total_time="$seconds" -timeout=30
       -rss_limit_mb=4096 -print_final_stats=1
       -artifact_prefix="$artifacts/$t-" "$work/$t")
  echo "+ ${cmd[*]}  (log: $log)"
  set +e
  "${cmd[@]}" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  cov=$(grep -E '^#[0-9]+' "$log" | tail -1 | grep -o 'cov: [0-9]*' || true)
  corp=$(ls "$work/$t" | wc -l)
  if [ $rc -ne 0 ]; then
    tail -60 "$log"
    failed+=("$t")
    summary+=("$(printf '%-12s FAILED (exit %d), see %s' "$t" "$rc" "$artifacts/")")
  else
    summary+=("$(printf '%-12s ok: %s runs, %s, corpus %s -> %s' "$t" "${runs:-?}" \
      "${cov:-cov: ?}" "$(ls "$corpus" | wc -l)" "$corp")")
  fi
  echo "${summary[-1]}"
done

echo
echo "fuzz.sh summary ($mode, ${seconds}s each):"
printf '  %s\n' "${summary[@]}"
if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz.sh: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: no findings"
