// File: compiler/lower/compile.h
// The compiler driver: IR graph -> lowered program -> calibration ->
// parameters -> packed, level-planned plan (runtime/plan.h).
//
// Parameters: the smallest ring degree N (2^13 .. 2^16) whose 128-bit bound
// on log2(QP) (HomomorphicEncryption.org table, P included) holds a chain of
//   q_0 = scale + headroom bits, depth primes of `scale` bits, one special
//   prime as large as q_0,
// with scale bits as large as fits up to `max_scale_bits` but at least
// `min_scale_bits`, and N/2 slots for the widest packed vector. The headroom
// keeps the output below q_0 / 2 at level 0: log2 of the largest |output|
// seen on the calibration inputs plus `headroom_margin_bits`.
#ifndef BLINDFOLD_COMPILER_LOWER_COMPILE_H_
#define BLINDFOLD_COMPILER_LOWER_COMPILE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "compiler/ir/graph.h"
#include "runtime/plan.h"

namespace blindfold::compiler {

struct CompileOptions {
  runtime::PackingMode mode = runtime::PackingMode::kLatency;
  int min_scale_bits = 26;
  int max_scale_bits = 40;
  int headroom_margin_bits = 4;
  int log_n = 0;       // > 0 forces N (still checked for 128-bit security)
  int scale_bits = 0;  // > 0 forces the scale
  int activation_degree = 4;  // Relu/Sigmoid approximations (approx.h)
  std::vector<std::string> labels;
};

// Calibration: the largest |term| and |output| over `inputs` (flat input
// vectors, e.g. training images), in float64.
struct Calibration {
  double max_term_abs = 0, max_output_abs = 0;
  int inputs = 0;
};

// Errors: anything Lower/PackLatency refuse (naming the node), no
// calibration input, or no secure parameter set (naming depth, slots and the
// best N tried).
absl::StatusOr<runtime::Plan> Compile(const ir::Graph& graph,
                                      const std::vector<std::vector<double>>& calibration,
                                      const CompileOptions& options = {});

}  // namespace blindfold::compiler

#endif  // BLINDFOLD_COMPILER_LOWER_COMPILE_H_
