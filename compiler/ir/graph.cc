// File: compiler/ir/graph.cc
#include "compiler/ir/graph.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/check.h"
#include "base/status.h"

namespace blindfold::compiler::ir {

int64_t NumElements(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string ShapeString(const Shape& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ","), "]");
}

const char* OpKindName(OpKind op) {
  switch (op) {
    case OpKind::kGemm: return "Gemm";
    case OpKind::kMatMul: return "MatMul";
    case OpKind::kAdd: return "Add";
    case OpKind::kSub: return "Sub";
    case OpKind::kMul: return "Mul";
    case OpKind::kSquare: return "Square";
    case OpKind::kConv: return "Conv";
    case OpKind::kAveragePool: return "AveragePool";
    case OpKind::kGlobalAveragePool: return "GlobalAveragePool";
    case OpKind::kBatchNormalization: return "BatchNormalization";
    case OpKind::kFlatten: return "Flatten";
    case OpKind::kReshape: return "Reshape";
    case OpKind::kRelu: return "Relu";
    case OpKind::kSigmoid: return "Sigmoid";
    case OpKind::kIdentity: return "Identity";
  }
  return "Unknown";
}

std::string AttributeString(const Attribute& a) {
  if (const auto* i = std::get_if<int64_t>(&a)) return absl::StrCat(*i);
  if (const auto* f = std::get_if<double>(&a)) return absl::StrCat(*f);
  return ShapeString(std::get<std::vector<int64_t>>(a));
}

int64_t Node::IntAttr(const std::string& key, int64_t fallback) const {
  auto it = attributes.find(key);
  if (it == attributes.end()) return fallback;
  const auto* v = std::get_if<int64_t>(&it->second);
  return v ? *v : fallback;
}

double Node::FloatAttr(const std::string& key, double fallback) const {
  auto it = attributes.find(key);
  if (it == attributes.end()) return fallback;
  const auto* v = std::get_if<double>(&it->second);
  return v ? *v : fallback;
}

std::vector<int64_t> Node::IntsAttr(const std::string& key,
                                    std::vector<int64_t> fallback) const {
  auto it = attributes.find(key);
  if (it == attributes.end()) return fallback;
  const auto* v = std::get_if<std::vector<int64_t>>(&it->second);
  return v ? *v : fallback;
}

ValueId Graph::AddInput(std::string name, Shape shape) {
  values_.push_back(Value{std::move(name), std::move(shape), std::nullopt});
  inputs_.push_back(static_cast<ValueId>(values_.size() - 1));
  return inputs_.back();
}

ValueId Graph::AddConstant(std::string name, Tensor tensor) {
  Shape shape = tensor.shape;
  values_.push_back(Value{std::move(name), std::move(shape),
                          std::move(tensor)});
  return static_cast<ValueId>(values_.size() - 1);
}

ValueId Graph::AddNode(OpKind op, std::string name,
                       std::vector<ValueId> inputs, std::string output_name,
                       std::map<std::string, Attribute> attributes) {
  for (ValueId id : inputs) BF_CHECK(id >= 0 && id < (int)values_.size());
  values_.push_back(Value{std::move(output_name), {}, std::nullopt});
  const ValueId out = static_cast<ValueId>(values_.size() - 1);
  nodes_.push_back(Node{op, std::move(name), std::move(inputs), out,
                        std::move(attributes)});
  return out;
}

namespace {

// Shape rules of one node; errors are returned without the node prefix.
class ShapeRules {
 public:
  ShapeRules(const Graph& g, const Node& n) : g_(g), n_(n) {}

  absl::StatusOr<Shape> Infer() {
    switch (n_.op) {
      case OpKind::kGemm: return Gemm();
      case OpKind::kMatMul: return MatMul();
      case OpKind::kAdd:
      case OpKind::kSub:
      case OpKind::kMul: return Broadcast();
      case OpKind::kSquare:
      case OpKind::kRelu:
      case OpKind::kSigmoid:
      case OpKind::kIdentity:
        BF_RETURN_IF_ERROR(Arity(1, 1));
        return In(0);
      case OpKind::kConv: return Conv();
      case OpKind::kAveragePool: return AveragePool();
      case OpKind::kGlobalAveragePool: return GlobalAveragePool();
      case OpKind::kBatchNormalization: return BatchNorm();
      case OpKind::kFlatten: return Flatten();
      case OpKind::kReshape: return Reshape();
    }
    return absl::InvalidArgumentError("unknown op kind");
  }

 private:
  const Shape& In(int i) const { return g_.value(n_.inputs[i]).shape; }

  absl::Status Arity(size_t lo, size_t hi) const {
    if (n_.inputs.size() < lo || n_.inputs.size() > hi) {
      return absl::InvalidArgumentError(
          absl::StrCat("has ", n_.inputs.size(), " inputs, expected ",
                       lo == hi ? absl::StrCat(lo)
                                : absl::StrCat(lo, " to ", hi)));
    }
    return absl::OkStatus();
  }
  absl::Status Rank(int i, size_t rank) const {
    if (In(i).size() != rank) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input ", i, " ('", g_.value(n_.inputs[i]).name, "') has shape ",
          ShapeString(In(i)), ", expected rank ", rank));
    }
    return absl::OkStatus();
  }
  // Plaintext weights: the HE program multiplies ciphertexts by them.
  absl::Status Constant(int i) const {
    if (!g_.IsConstant(n_.inputs[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("input ", i, " ('", g_.value(n_.inputs[i]).name,
                       "') must be a constant weight, not a computed value"));
    }
    return absl::OkStatus();
  }
  absl::Status Ints(const std::string& key, size_t size, int64_t min) const {
    auto it = n_.attributes.find(key);
    if (it == n_.attributes.end()) return absl::OkStatus();
    const auto* v = std::get_if<std::vector<int64_t>>(&it->second);
    if (v == nullptr || v->size() != size) {
      return absl::InvalidArgumentError(
          absl::StrCat("attribute ", key, " is ", AttributeString(it->second),
                       ", expected ", size, " integers"));
    }
    for (int64_t x : *v) {
      if (x < min) {
        return absl::InvalidArgumentError(
            absl::StrCat("attribute ", key, " is ", AttributeString(*v),
                         ", expected values >= ", min));
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Shape> Gemm() const {
    BF_RETURN_IF_ERROR(Arity(2, 3));
    BF_RETURN_IF_ERROR(Rank(0, 2));
    BF_RETURN_IF_ERROR(Rank(1, 2));
    BF_RETURN_IF_ERROR(Constant(1));
    const bool ta = n_.IntAttr("transA", 0) != 0;
    const bool tb = n_.IntAttr("transB", 0) != 0;
    const int64_t m = In(0)[ta ? 1 : 0], k = In(0)[ta ? 0 : 1];
    const int64_t kb = In(1)[tb ? 1 : 0], n = In(1)[tb ? 0 : 1];
    if (k != kb) {
      return absl::InvalidArgumentError(absl::StrCat(
          "inner dimensions differ: A ", ShapeString(In(0)), " (transA=", ta,
          ") has K=", k, ", B ", ShapeString(In(1)), " (transB=", tb,
          ") has K=", kb));
    }
    if (n_.inputs.size() == 3) {
      BF_RETURN_IF_ERROR(Constant(2));
      auto c = BroadcastShapes(In(2), {m, n});
      if (!c.ok() || *c != Shape{m, n}) {
        return absl::InvalidArgumentError(
            absl::StrCat("C has shape ", ShapeString(In(2)),
                         ", expected one that broadcasts to ",
                         ShapeString({m, n})));
      }
    }
    return Shape{m, n};
  }

  absl::StatusOr<Shape> MatMul() const {
    BF_RETURN_IF_ERROR(Arity(2, 2));
    BF_RETURN_IF_ERROR(Rank(0, 2));
    BF_RETURN_IF_ERROR(Rank(1, 2));
    BF_RETURN_IF_ERROR(Constant(1));
    if (In(0)[1] != In(1)[0]) {
      return absl::InvalidArgumentError(absl::StrCat(
          "inner dimensions differ: ", ShapeString(In(0)), " x ",
          ShapeString(In(1))));
    }
    return Shape{In(0)[0], In(1)[1]};
  }

  static absl::StatusOr<Shape> BroadcastShapes(const Shape& a,
                                               const Shape& b) {
    Shape out(std::max(a.size(), b.size()));
    for (size_t i = 0; i < out.size(); ++i) {
      const int64_t da = i < out.size() - a.size()
                             ? 1
                             : a[i - (out.size() - a.size())];
      const int64_t db = i < out.size() - b.size()
                             ? 1
                             : b[i - (out.size() - b.size())];
      if (da != db && da != 1 && db != 1) {
        return absl::InvalidArgumentError(
            absl::StrCat("shapes ", ShapeString(a), " and ", ShapeString(b),
                         " do not broadcast"));
      }
      out[i] = da == 1 ? db : da;
    }
    return out;
  }

  absl::StatusOr<Shape> Broadcast() const {
    BF_RETURN_IF_ERROR(Arity(2, 2));
    return BroadcastShapes(In(0), In(1));
  }

  // Output extent of a sliding window (floor mode).
  static absl::StatusOr<int64_t> Window(int64_t in, int64_t k, int64_t s,
                                        int64_t pb, int64_t pe, int64_t d,
                                        int axis) {
    const int64_t span = (k - 1) * d + 1;
    if (in + pb + pe < span) {
      return absl::InvalidArgumentError(absl::StrCat(
          "window ", span, " larger than padded input ", in + pb + pe,
          " on axis ", axis));
    }
    return (in + pb + pe - span) / s + 1;
  }

  absl::StatusOr<Shape> Conv() const {
    BF_RETURN_IF_ERROR(Arity(2, 3));
    BF_RETURN_IF_ERROR(Rank(0, 4));
    BF_RETURN_IF_ERROR(Rank(1, 4));
    BF_RETURN_IF_ERROR(Constant(1));
    BF_RETURN_IF_ERROR(Ints("strides", 2, 1));
    BF_RETURN_IF_ERROR(Ints("dilations", 2, 1));
    BF_RETURN_IF_ERROR(Ints("pads", 4, 0));
    if (n_.IntAttr("group", 1) != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "group is ", n_.IntAttr("group", 1), ", only 1 is supported"));
    }
    const Shape& x = In(0);
    const Shape& w = In(1);
    if (w[1] != x[1]) {
      return absl::InvalidArgumentError(
          absl::StrCat("weight ", ShapeString(w), " expects ", w[1],
                       " input channels, input ", ShapeString(x), " has ",
                       x[1]));
    }
    if (n_.inputs.size() == 3) {
      BF_RETURN_IF_ERROR(Constant(2));
      if (In(2) != Shape{w[0]}) {
        return absl::InvalidArgumentError(
            absl::StrCat("bias has shape ", ShapeString(In(2)), ", expected ",
                         ShapeString({w[0]})));
      }
    }
    const auto s = n_.IntsAttr("strides", {1, 1});
    const auto d = n_.IntsAttr("dilations", {1, 1});
    const auto p = n_.IntsAttr("pads", {0, 0, 0, 0});
    BF_ASSIGN_OR_RETURN(int64_t h, Window(x[2], w[2], s[0], p[0], p[2], d[0], 2));
    BF_ASSIGN_OR_RETURN(int64_t v, Window(x[3], w[3], s[1], p[1], p[3], d[1], 3));
    return Shape{x[0], w[0], h, v};
  }

  absl::StatusOr<Shape> AveragePool() const {
    BF_RETURN_IF_ERROR(Arity(1, 1));
    BF_RETURN_IF_ERROR(Rank(0, 4));
    BF_RETURN_IF_ERROR(Ints("kernel_shape", 2, 1));
    BF_RETURN_IF_ERROR(Ints("strides", 2, 1));
    BF_RETURN_IF_ERROR(Ints("pads", 4, 0));
    const auto k = n_.IntsAttr("kernel_shape", {});
    if (k.size() != 2) {
      return absl::InvalidArgumentError("attribute kernel_shape is missing");
    }
    const auto s = n_.IntsAttr("strides", {1, 1});
    const auto p = n_.IntsAttr("pads", {0, 0, 0, 0});
    const Shape& x = In(0);
    BF_ASSIGN_OR_RETURN(int64_t h, Window(x[2], k[0], s[0], p[0], p[2], 1, 2));
    BF_ASSIGN_OR_RETURN(int64_t v, Window(x[3], k[1], s[1], p[1], p[3], 1, 3));
    return Shape{x[0], x[1], h, v};
  }

  absl::StatusOr<Shape> GlobalAveragePool() const {
    BF_RETURN_IF_ERROR(Arity(1, 1));
    BF_RETURN_IF_ERROR(Rank(0, 4));
    return Shape{In(0)[0], In(0)[1], 1, 1};
  }

  absl::StatusOr<Shape> BatchNorm() const {
    BF_RETURN_IF_ERROR(Arity(5, 5));
    const Shape& x = In(0);
    if (x.size() < 2) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input has shape ", ShapeString(x), ", expected rank >= 2"));
    }
    for (int i = 1; i < 5; ++i) {
      BF_RETURN_IF_ERROR(Constant(i));
      if (In(i) != Shape{x[1]}) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input ", i, " has shape ", ShapeString(In(i)), ", expected ",
            ShapeString({x[1]}), " (one value per channel)"));
      }
    }
    return x;
  }

  absl::StatusOr<Shape> Flatten() const {
    BF_RETURN_IF_ERROR(Arity(1, 1));
    const Shape& x = In(0);
    const int64_t r = static_cast<int64_t>(x.size());
    int64_t axis = n_.IntAttr("axis", 1);
    if (axis < -r || axis > r) {
      return absl::InvalidArgumentError(absl::StrCat(
          "axis ", axis, " out of range [", -r, ", ", r, "]"));
    }
    if (axis < 0) axis += r;
    Shape out{1, 1};
    for (int64_t i = 0; i < r; ++i) out[i < axis ? 0 : 1] *= x[i];
    return out;
  }

  absl::StatusOr<Shape> Reshape() const {
    BF_RETURN_IF_ERROR(Arity(1, 1));
    const Shape& x = In(0);
    Shape out = n_.IntsAttr("shape", {});
    int infer = -1;
    int64_t known = 1;
    for (size_t i = 0; i < out.size(); ++i) {
      if (out[i] == 0) {
        if (i >= x.size()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "target ", ShapeString(n_.IntsAttr("shape", {})),
              " copies dimension ", i, " of input ", ShapeString(x),
              " which has none"));
        }
        out[i] = x[i];
      }
      if (out[i] == -1) {
        if (infer >= 0) {
          return absl::InvalidArgumentError(
              absl::StrCat("target ", ShapeString(out), " has two -1"));
        }
        infer = static_cast<int>(i);
      } else if (out[i] < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("target ", ShapeString(out), " has a negative size"));
      } else {
        known *= out[i];
      }
    }
    const int64_t total = NumElements(x);
    if (infer >= 0 && known > 0 && total % known == 0) {
      out[infer] = total / known;
    }
    if (NumElements(out) != total || (infer >= 0 && out[infer] < 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot reshape ", ShapeString(x), " (", total,
                       " elements) to ",
                       ShapeString(n_.IntsAttr("shape", {}))));
    }
    return out;
  }

  const Graph& g_;
  const Node& n_;
};

std::string NodeLabel(const Graph& g, const Node& n) {
  return absl::StrCat("node '", n.name.empty() ? g.value(n.output).name : n.name,
                      "' (", OpKindName(n.op), ")");
}

}  // namespace

absl::Status InferShapes(Graph& graph) {
  BF_RETURN_IF_ERROR(Verify(graph));
  for (const Node& n : graph.nodes()) {
    absl::StatusOr<Shape> shape = ShapeRules(graph, n).Infer();
    if (!shape.ok()) {
      return AnnotateStatus(shape.status(),
                            absl::StrCat("InferShapes: ", NodeLabel(graph, n)));
    }
    for (int64_t d : *shape) {
      if (d <= 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("InferShapes: ", NodeLabel(graph, n),
                         ": output shape ", ShapeString(*shape),
                         " has an empty dimension"));
      }
    }
    graph.mutable_value(n.output).shape = *std::move(shape);
  }
  return absl::OkStatus();
}

absl::Status Verify(const Graph& graph) {
  const int num_values = static_cast<int>(graph.values().size());
  std::vector<bool> defined(num_values, false);
  std::vector<bool> is_input(num_values, false);
  if (graph.inputs().empty()) {
    return absl::InvalidArgumentError("Verify: graph has no input");
  }
  if (graph.outputs().empty()) {
    return absl::InvalidArgumentError("Verify: graph has no output");
  }
  for (ValueId id : graph.inputs()) {
    if (id < 0 || id >= num_values) {
      return absl::InvalidArgumentError(
          absl::StrCat("Verify: input id ", id, " out of range"));
    }
    defined[id] = is_input[id] = true;
  }
  for (ValueId id = 0; id < num_values; ++id) {
    if (graph.IsConstant(id)) {
      const Value& v = graph.value(id);
      if (static_cast<int64_t>(v.constant->data.size()) !=
              NumElements(v.constant->shape) ||
          v.constant->shape != v.shape) {
        return absl::InvalidArgumentError(absl::StrCat(
            "Verify: constant '", v.name, "' has ", v.constant->data.size(),
            " values for shape ", ShapeString(v.constant->shape)));
      }
      defined[id] = true;
    }
  }
  for (const Node& n : graph.nodes()) {
    for (ValueId in : n.inputs) {
      if (in < 0 || in >= num_values || !defined[in]) {
        return absl::InvalidArgumentError(absl::StrCat(
            "Verify: ", NodeLabel(graph, n), " uses value ", in,
            " before it is defined"));
      }
    }
    if (n.output < 0 || n.output >= num_values || defined[n.output]) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Verify: ", NodeLabel(graph, n), " output ", n.output,
          " is out of range or already defined"));
    }
    defined[n.output] = true;
  }
  for (ValueId id : graph.outputs()) {
    if (id < 0 || id >= num_values || !defined[id]) {
      return absl::InvalidArgumentError(
          absl::StrCat("Verify: graph output ", id, " is never computed"));
    }
  }
  return absl::OkStatus();
}

}  // namespace blindfold::compiler::ir
