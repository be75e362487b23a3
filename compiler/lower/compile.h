// File: compiler/lower/compile.h
// The compiler driver: IR graph -> lowered program -> calibration ->
// parameters -> packed, level-planned plan (runtime/plan.h).
//
// Parameters: the smallest ring degree N (2^13 .. 2^16) whose 128-bit bound
// on log2(QP) (HomomorphicEncryption.org table, P included) holds a chain of
//   q_0 = scale + headroom bits (at most 50: IFMA kernels), depth primes of
//   `scale` bits, and special primes as large as q_0 — as many as fit, up
//   to half the chain (fewer key-switching digits),
// with scale bits as large as fits up to `max_scale_bits` but at least
// `min_scale_bits`, and N/2 slots for the widest packed vector. The headroom
// keeps the output below q_0 / 2 at level 0: log2 of the largest |output|
// seen on the calibration inputs plus `headroom_margin_bits`.
#ifndef BLINDFOLD_COMPILER_LOWER_COMPILE_H_
#define BLINDFOLD_COMPILER_LOWER_COMPILE_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ckks/parameters.h"
#include "compiler/ir/graph.h"
#include "runtime/plan.h"

namespace blindfold::compiler {

// The optimizations the compiler makes, each of which a switch turns off
// alone (the ablations of docs/results.md); the conventional baseline
// (docs/design/baseline.md) turns them all off.
enum class Optimization {
  kFusion = 0,              // LowerOptions::fuse
  kInputLayout = 1,         // the client-side input layouts (pack.h)
  kLevelPlanning = 2,       // one rescale per linear map; input at the
                            // lowest level that suffices
  kBsgs = 3,                // baby-step/giant-step with hoisted babies
  kParameterSelection = 4,  // N, chain and scale chosen per model
  kMinimalKeys = 5,         // the smaller key set at about the same speed:
                            // a Galois key per rotation the plan performs,
                            // or the power-of-two set when it takes at most
                            // half the bytes and costs at most 10 % more
                            // predicted time. Off: always the power-of-two
                            // set (SEAL's default).
};
inline constexpr Optimization kAllOptimizations[] = {
    Optimization::kFusion,        Optimization::kInputLayout,
    Optimization::kLevelPlanning, Optimization::kBsgs,
    Optimization::kParameterSelection, Optimization::kMinimalKeys};
// "fusion", "input-layout", "level-planning", "bsgs", "param-selection",
// "minimal-keys".
const char* OptimizationName(Optimization o);
// The inverse. Errors (InvalidArgument): an unknown name, listing the known.
absl::StatusOr<Optimization> ParseOptimization(std::string_view name);

// The conventional pipeline's fixed parameters, chosen once for the deepest
// shipped model (docs/design/baseline.md): N = 2^15, Q = one 50-bit prime
// and kBaselineDepth 40-bit primes, one 50-bit special prime (as SEAL has),
// scale 2^40. cnn-deep lowered without fusion needs exactly
// kBaselineDepth levels (checked by tests/baseline_test.cc).
inline constexpr int kBaselineDepth = 14;
ckks::ParametersLiteral BaselineParameters();

struct CompileOptions {
  runtime::PackingMode mode = runtime::PackingMode::kLatency;
  int min_scale_bits = 26;
  int max_scale_bits = 40;
  int headroom_margin_bits = 4;
  int log_n = 0;       // > 0 forces N (still checked for 128-bit security)
  int scale_bits = 0;  // > 0 forces the scale
  int activation_degree = 4;  // Relu/Sigmoid approximations (approx.h)
  // Latency mode: also try the client-side input gather (pack.h) and keep
  // whichever the cost model predicts faster (Optimization::kInputLayout).
  bool gather_input = true;
  // The other optimizations (Optimization), all on; latency mode only
  // (Compile refuses them off in throughput mode).
  bool fusion = true;
  bool level_planning = true;
  bool bsgs = true;
  bool parameter_selection = true;
  bool minimal_keys = true;
  std::vector<std::string> labels;

  bool Enabled(Optimization o) const;
  void Disable(Optimization o);
};

// Every optimization off: the conventional baseline.
CompileOptions BaselineOptions();

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
