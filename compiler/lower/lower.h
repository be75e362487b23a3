// File: compiler/lower/lower.h
// Lowers an imported IR graph to the affine-polynomial normal form
// (compiler/lower/program.h), fusing as it goes:
//  - every plaintext-weight op (Conv, Gemm, MatMul, AveragePool,
//    GlobalAveragePool, BatchNormalization, Add/Sub/Mul with a constant,
//    broadcasting) is composed into the pending linear form, so a run of them
//    costs one level; Flatten, Reshape and Identity are free;
//  - Mul(u, v) with u = diag(alpha) v row by row (the learned activation's
//    (a·x)·x) becomes alpha ⊙ v², and a·v² + b·v + c is rewritten by completing
//    the square, a·(v + b/2a)² + (c − b²/4a), so its coefficients fold into
//    the neighbouring linear forms and the activation costs exactly one
//    ciphertext product;
//  - products of two different forms become product terms.
// Relu and Sigmoid become polynomials fitted on calibration data (one
// linear term for their argument, squares and a product tree).
// Errors (InvalidArgument "Lower: node 'NAME' (OP): ..."): Relu or Sigmoid
// without calibration inputs, a graph
// with other than one input and one output, a batch dimension other than 1,
// broadcasting between two computed values, a computed value used where the
// IR needs a constant, or a form whose density exceeds `max_nonzeros`.
#ifndef BLINDFOLD_COMPILER_LOWER_LOWER_H_
#define BLINDFOLD_COMPILER_LOWER_LOWER_H_

#include "absl/status/statusor.h"
#include "compiler/ir/graph.h"
#include "compiler/lower/program.h"

namespace blindfold::compiler {

struct LowerOptions {
  // Operator fusion (on: the normal form above). Off: the conventional
  // pipeline's lowering (docs/design/baseline.md): every graph op is its own
  // HE operation, so each plaintext-weight op (normalisation Mul, Conv,
  // Gemm, BatchNorm, pooling, an activation's coefficients) becomes a term
  // of its own and costs its own level; additions of constants and of
  // computed values stay free; a·x² + b·x + c is evaluated as written,
  // ((a·x)·x + b·x + c: three products, two levels); Relu/Sigmoid
  // approximations are evaluated on their argument directly (squares of
  // shifted v, a product tree, then one coefficient product per neuron).
  bool fuse = true;
  // Completing the square shifts v by b/2a; beyond this magnitude the shift
  // would inflate the squared values (and the CKKS scale they need), so the
  // general form a·v² + b·v + c is kept instead.
  double max_square_shift = 64.0;
  // Bound on the non-zeros of any fused linear form (memory and compile time).
  int64_t max_nonzeros = int64_t{1} << 27;
  // Calibration inputs (flat, e.g. training images): Relu and Sigmoid are
  // replaced by polynomials of `activation_degree` fitted on the values they
  // see on these inputs (compiler/lower/approx.h). Without them, Relu and
  // Sigmoid are refused.
  const std::vector<std::vector<double>>* calibration = nullptr;
  int activation_degree = 4;
  // Bound on the samples used per activation fit (spread over all inputs).
  int64_t max_fit_samples = 1 << 18;
};

// REQUIRES: graph passed ir::Verify and ir::InferShapes (as every imported
// graph has).
absl::StatusOr<Program> Lower(const ir::Graph& graph,
                              const LowerOptions& options = {});

}  // namespace blindfold::compiler

#endif  // BLINDFOLD_COMPILER_LOWER_LOWER_H_
