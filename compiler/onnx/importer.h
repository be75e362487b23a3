// File: compiler/onnx/importer.h
// The ONNX front end: the only code in Blindfold that sees ONNX. Converts an
// ONNX model (bytes of a ModelProto) into the IR of compiler/ir/graph.h,
// with constant weights in double precision and shapes inferred. Untrusted
// input: every length is bounded before allocating, and anything it does not
// support is an error, never a silently different graph.
#ifndef BLINDFOLD_COMPILER_ONNX_IMPORTER_H_
#define BLINDFOLD_COMPILER_ONNX_IMPORTER_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "compiler/ir/graph.h"

namespace blindfold::compiler {

// Opsets of the default ONNX domain the importer accepts (attribute meanings
// of the supported ops are the same across them).
inline constexpr int kMinOnnxOpset = 11;
inline constexpr int kMaxOnnxOpset = 18;

// Caps on untrusted models (docs/models.md, "Limits"). A model past one is
// rejected with an error naming the cap; none is reached by the shipped
// models (the largest has about 207,000 weights and 25 nodes).
//  - model file size:
inline constexpr size_t kMaxOnnxBytes = size_t{1} << 30;
//  - nodes in the graph (a long chain costs time and memory in every pass;
//    HE depth makes far shorter graphs the useful ones):
inline constexpr int kMaxOnnxNodes = 10000;
//  - initializers (each is a hash-map entry before any is used; tiny ones
//    would otherwise cost memory out of proportion to the file):
inline constexpr int kMaxOnnxInitializers = 100000;
//  - elements of any one tensor: weights, the input, every inferred value:
inline constexpr int64_t kMaxTensorElements = ir::kMaxElements;
// and, enforced by ir::InferShapes on the converted graph: rank <= ir::kMaxRank
// (8) for the input, every weight and Reshape target; ir::kMaxGraphElements
// (2^29) elements over all values; pads, strides, dilations and kernel
// extents <= ir::kMaxWindow (2^16); ir::kMaxWork (2^34) multiply-adds per
// run. All shape arithmetic is overflow-checked (compiler/ir/checked_math.h).

// "Add, AveragePool, BatchNormalization, ..." (for error messages and docs).
std::string SupportedOnnxOps();

// Parses and converts an ONNX model. The graph must have exactly one input
// (float, static shape) and one output. Errors (InvalidArgument unless
// noted), each starting with "ImportOnnx: ":
//  - bytes that are not a ModelProto (truncated, damaged);
//  - no default-domain opset, or one outside [kMinOnnxOpset, kMaxOnnxOpset];
//  - an unsupported op (Unimplemented): names the op type, the node name and
//    SupportedOnnxOps(); an unsupported attribute value likewise (Conv group
//    != 1, Pow exponent != 2, ceil_mode, auto_pad SAME_*, ...);
//  - a node input that no initializer, Constant, graph input or earlier node
//    defines (a missing weight);
//  - a tensor with an unsupported data type or a payload whose size does not
//    match its shape;
//  - a symbolic or non-positive input dimension;
//  - a Reshape target value that is not a whole number in
//    [-1, kMaxTensorElements] (NaN, infinite, fractional, huge);
//  - more than kMaxOnnxNodes nodes or kMaxOnnxInitializers initializers
//    (ResourceExhausted);
//  - a Constant whose attribute has the wrong type for its name;
//  - a rank, element count or window attribute past the caps above;
//  - the errors of ir::InferShapes (mismatched shapes, empty operands, a
//    product past the caps: ResourceExhausted for the graph-wide ones),
//    each naming the node.
absl::StatusOr<ir::Graph> ImportOnnx(std::string_view bytes);

// Reads `path` and calls ImportOnnx. Errors: NotFound when the file cannot be
// read, ResourceExhausted above kMaxOnnxBytes, and those of ImportOnnx.
absl::StatusOr<ir::Graph> ImportOnnxFile(const std::string& path);

}  // namespace blindfold::compiler

#endif  // BLINDFOLD_COMPILER_ONNX_IMPORTER_H_
