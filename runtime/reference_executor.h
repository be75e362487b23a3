// File: runtime/reference_executor.h
// The float64 reference executor: runs an IR graph in the clear in double
// precision. It is the trusted plaintext result every encrypted result is
// checked against (and is itself checked against PyTorch, tools/
// model_fixture_test.cc), so it favours plain loops over speed.
#ifndef BLINDFOLD_RUNTIME_REFERENCE_EXECUTOR_H_
#define BLINDFOLD_RUNTIME_REFERENCE_EXECUTOR_H_

#include "absl/status/statusor.h"
#include "compiler/ir/graph.h"

namespace blindfold::runtime {

// Runs `graph` (which must have passed compiler::ir::InferShapes, as every
// imported graph has) on `input` and returns its single output. Errors:
// InvalidArgument "RunReference: ..." when the graph does not have exactly
// one input and one output, or when input.shape differs from the graph
// input's shape or input.data has the wrong length (seen vs expected), and
// those of compiler::ir::CheckShapes (prefixed "RunReference: ") when the
// graph is not one InferShapes accepts with the shapes it computes.
absl::StatusOr<compiler::ir::Tensor> RunReference(
    const compiler::ir::Graph& graph, const compiler::ir::Tensor& input);

}  // namespace blindfold::runtime

#endif  // BLINDFOLD_RUNTIME_REFERENCE_EXECUTOR_H_
