// File: compiler/ir/analysis.h
// Static facts about a graph that the HE compiler and `blindfold inspect`
// report: multiplicative depth and weight count.
//
// Depth rule (docs/models.md states the same):
//  - a ciphertext-ciphertext product (Mul of two computed values, Square)
//    costs one level;
//  - an op with plaintext weights (Conv, Gemm, MatMul, BatchNormalization,
//    AveragePool, GlobalAveragePool, Mul by a constant) costs one level,
//    except directly after another such op: a run of them fuses into one
//    plaintext linear map, so it costs one level in total;
//  - Add/Sub, Flatten, Reshape and Identity are free (an Add of a fused and
//    an unfused value is unfused);
//  - Relu and Sigmoid are not polynomials: the depth is undefined until the
//    compiler replaces them by polynomial approximations.
#ifndef BLINDFOLD_COMPILER_IR_ANALYSIS_H_
#define BLINDFOLD_COMPILER_IR_ANALYSIS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "compiler/ir/graph.h"

namespace blindfold::compiler::ir {

struct DepthReport {
  // Ciphertext-ciphertext products on the longest path (the activations'
  // depth); nullopt when the graph has a non-polynomial op.
  std::optional<int> activation_depth;
  // activation_depth plus the plaintext-weight levels; nullopt likewise.
  std::optional<int> multiplicative_depth;
  // The first non-polynomial op's name ("Relu"), empty when there is none.
  std::string non_polynomial_op;
};

// Computes the depths of `graph` by the rule above. REQUIRES: Verify(graph).
DepthReport AnalyzeDepth(const Graph& graph);

// Total number of constant values (weights, biases, normalisation
// constants) in `graph`.
int64_t CountWeights(const Graph& graph);

}  // namespace blindfold::compiler::ir

#endif  // BLINDFOLD_COMPILER_IR_ANALYSIS_H_
