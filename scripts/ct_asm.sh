#!/usr/bin/env bash
# Prints the branches, conditional moves, divisions and calls in the
# generated code of the functions that handle secret-dependent values
# (docs/security.md, "Constant-time paths"), so a reviewer can check after a
# compiler or kernel change that none of them branches on data. Loop
# control (counters compared with n) is expected; a jump right after a
# compare of a loaded value is not.
#
#   bash scripts/ct_asm.sh [BUILD_DIR]    # default: build (Release)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
show() {  # object file, function-name regex
  objdump -d --no-show-raw-insn -C "$build/$1" | awk -v re="$2" '
    /^[0-9a-f]+ <.*>:$/ { on = ($0 ~ re); if (on) { n = $0; sub(/\(.*/, "", n); print "== " n } next }
    on && NF == 0 { on = 0 }
    on && /\tj[a-z]+ |\tcmov|\tdiv|\tidiv|\tcall|\tvpminuq|\tsbb/ { sub(/<.*>/, ""); print "   " $0 }'
}
ring=ring/CMakeFiles/blindfold_ring.dir
math=math/CMakeFiles/blindfold_math.dir
show $ring/poly.cc.o 'SetFromSigned'
show $ring/sampler.cc.o 'SampleTernary|SampleError'
show $math/vec_ops.cc.o 'math::(internal::)?(MulModVecPortable|MulAddModVec|AddModVec|SubModVec|MulScalarModVecPortable)\('
show $math/vec_ops_ifma.cc.o 'MulModVecIfma\('
show $math/ntt.cc.o '(Forward|Inverse)LazyPortable|NttTables::(Forward|Inverse)\('
