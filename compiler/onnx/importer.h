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

// Largest model file accepted, and largest tensor in elements.
inline constexpr size_t kMaxOnnxBytes = size_t{1} << 30;
inline constexpr int64_t kMaxTensorElements = int64_t{1} << 28;

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
//  - the errors of ir::InferShapes (mismatched shapes).
absl::StatusOr<ir::Graph> ImportOnnx(std::string_view bytes);

// Reads `path` and calls ImportOnnx. Errors: NotFound when the file cannot be
// read, ResourceExhausted above kMaxOnnxBytes, and those of ImportOnnx.
absl::StatusOr<ir::Graph> ImportOnnxFile(const std::string& path);

}  // namespace blindfold::compiler

#endif  // BLINDFOLD_COMPILER_ONNX_IMPORTER_H_
