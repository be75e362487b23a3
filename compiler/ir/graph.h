// File: compiler/ir/graph.h
// Blindfold's model IR: a graph of typed tensor ops in topological order. Each
// value (graph input, constant weight, or node output) has a static shape;
// constants carry their data in double precision. The ONNX front end
// (compiler/onnx) builds it, InferShapes/Verify check it, the reference
// executor (runtime/reference_executor.h) runs it, and the HE compiler will
// lower it. Op kinds have stable explicit values: they may be serialised.
#ifndef BLINDFOLD_COMPILER_IR_GRAPH_H_
#define BLINDFOLD_COMPILER_IR_GRAPH_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"

namespace blindfold::compiler::ir {

using Shape = std::vector<int64_t>;

// Bounds on every graph InferShapes accepts. Models are untrusted input (the
// ONNX importer calls InferShapes), so each bound keeps shape arithmetic far
// from int64 overflow and the reference executor's memory and time finite.
// docs/models.md ("Limits") lists them with the importer's own caps.
//  - rank of any value (graph input, constant, node output):
inline constexpr size_t kMaxRank = 8;
//  - elements of any one value:
inline constexpr int64_t kMaxElements = int64_t{1} << 28;
//  - elements of all values together (the reference executor keeps every
//    value: 2^29 doubles are 4 GiB):
inline constexpr int64_t kMaxGraphElements = int64_t{1} << 29;
//  - every pad, stride, dilation and kernel extent of Conv and AveragePool:
inline constexpr int64_t kMaxWindow = int64_t{1} << 16;
//  - multiply-adds of one run of the whole graph (Gemm/MatMul m*n*k, Conv
//    output*c_in*kh*kw, pools output*window, other ops their output size):
inline constexpr int64_t kMaxWork = int64_t{1} << 34;

// Number of elements of `shape` (1 for a scalar). REQUIRES: the product
// fits (true of every shape of a graph that passed InferShapes); otherwise
// use CheckedNumElements.
int64_t NumElements(const Shape& shape);

// Number of elements of `shape`, or nullopt when a dimension is negative or
// the product exceeds kMaxElements.
std::optional<int64_t> CheckedNumElements(const Shape& shape);

// Row-major strides of `in` viewed with the rank of `out`, 0 on the axes
// where `in` broadcasts (numpy rules). REQUIRES: the shapes broadcast to
// `out` (InferShapes checks it).
std::vector<int64_t> BroadcastStrides(const Shape& in, const Shape& out);

// "[1,1,28,28]".
std::string ShapeString(const Shape& shape);

// A dense row-major tensor of doubles.
struct Tensor {
  Shape shape;
  std::vector<double> data;  // NumElements(shape) values
};

// The op kinds. Semantics follow the ONNX operator of the same name (opset
// 13) unless noted; the front end normalises attributes (defaults filled in).
enum class OpKind : int {
  kGemm = 1,               // Y = alpha*A'*B' + beta*C; A, B 2-D; C broadcasts
  kMatMul = 2,             // 2-D [M,K] x [K,N] only
  kAdd = 3,                // numpy broadcasting
  kSub = 4,                // numpy broadcasting
  kMul = 5,                // numpy broadcasting; Mul(x, x) squares
  kSquare = 6,             // x*x elementwise (ONNX Pow with exponent 2)
  kConv = 7,               // 2-D NCHW, group 1
  kAveragePool = 8,        // 2-D NCHW, floor output size
  kGlobalAveragePool = 9,  // NCHW -> NC11
  kBatchNormalization = 10,  // inference form, channel axis 1
  kFlatten = 11,
  kReshape = 12,  // target shape in attribute "shape" (0 and -1 as in ONNX)
  kRelu = 13,
  kSigmoid = 14,
  kIdentity = 15,
};

// "Gemm", "Conv", ... (the ONNX name; "Square" for kSquare).
const char* OpKindName(OpKind op);

// An attribute value: an integer, a float or a list of integers.
using Attribute = std::variant<int64_t, double, std::vector<int64_t>>;

// "3", "1e-05", "[1,1]".
std::string AttributeString(const Attribute& a);

using ValueId = int;

// A value: produced by exactly one node, or a graph input, or a constant.
struct Value {
  std::string name;
  Shape shape;                     // filled in by InferShapes for node outputs
  std::optional<Tensor> constant;  // set for weights and folded constants
};

struct Node {
  OpKind op;
  std::string name;  // the source node's name (may be empty)
  std::vector<ValueId> inputs;
  ValueId output = -1;
  std::map<std::string, Attribute> attributes;

  // The attribute `key` as an integer / float / int list, or `fallback` when
  // it is absent. InferShapes refuses an attribute of the wrong type, so on
  // a graph that passed it these never fall back because of a mismatch.
  int64_t IntAttr(const std::string& key, int64_t fallback) const;
  double FloatAttr(const std::string& key, double fallback) const;
  std::vector<int64_t> IntsAttr(const std::string& key,
                                std::vector<int64_t> fallback) const;
};

class Graph {
 public:
  // Adds a graph input / constant / node output value; returns its id.
  ValueId AddInput(std::string name, Shape shape);
  ValueId AddConstant(std::string name, Tensor tensor);
  // Adds a node computing a new value named `output_name` (shape unknown
  // until InferShapes). REQUIRES: inputs are existing ids.
  ValueId AddNode(OpKind op, std::string name, std::vector<ValueId> inputs,
                  std::string output_name,
                  std::map<std::string, Attribute> attributes = {});
  void AddOutput(ValueId id) { outputs_.push_back(id); }

  const std::vector<Value>& values() const { return values_; }
  const Value& value(ValueId id) const { return values_.at(id); }
  Value& mutable_value(ValueId id) { return values_.at(id); }
  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<ValueId>& inputs() const { return inputs_; }
  const std::vector<ValueId>& outputs() const { return outputs_; }
  bool IsConstant(ValueId id) const {
    return values_.at(id).constant.has_value();
  }

  std::string name;

 private:
  std::vector<Value> values_;
  std::vector<Node> nodes_;
  std::vector<ValueId> inputs_;
  std::vector<ValueId> outputs_;
};

// Computes the output shape of every node from its inputs, in order, and
// checks the structural rules of each op (arity, ranks, matching dimensions,
// constant weights where the HE program needs plaintext weights, no empty
// dimension in any node input or output, window attributes in [0 or 1,
// kMaxWindow], AveragePool pads smaller than the kernel) and the bounds
// above; all shape arithmetic is overflow-checked. Errors: InvalidArgument
// "InferShapes: node 'NAME' (OP): ..." with seen and expected values (or
// "InferShapes: value 'NAME': ..." for a graph input or constant);
// ResourceExhausted for kMaxGraphElements and kMaxWork.
absl::Status InferShapes(Graph& graph);

// Checks that `graph` is one InferShapes accepts and that every node output
// already has the shape InferShapes computes; changes nothing. The reference
// executor calls it, so a hand-built or altered graph cannot make it index
// out of bounds. Errors: those of InferShapes, and InvalidArgument
// "CheckShapes: node ...: output has shape X, expected Y".
absl::Status CheckShapes(const Graph& graph);

// Checks the graph is well formed: ids in range, topological order, every
// node output produced once, at least one input and output, every non-input
// value defined. Errors: InvalidArgument "Verify: ...". Shapes are checked by
// InferShapes; Verify does not need them.
absl::Status Verify(const Graph& graph);

}  // namespace blindfold::compiler::ir

#endif  // BLINDFOLD_COMPILER_IR_GRAPH_H_
