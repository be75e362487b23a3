// File: compiler/ir/graph.cc
#include "compiler/ir/graph.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/check.h"
#include "base/status.h"
#include "compiler/ir/checked_math.h"

namespace blindfold::compiler::ir {

int64_t NumElements(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::optional<int64_t> CheckedNumElements(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    const std::optional<int64_t> next = BoundedMul(n, d, kMaxElements);
    if (!next) return std::nullopt;
    n = *next;
  }
  return n;
}

std::vector<int64_t> BroadcastStrides(const Shape& in, const Shape& out) {
  std::vector<int64_t> strides(out.size(), 0);
  int64_t stride = 1;
  for (size_t k = 0; k < in.size(); ++k) {
    const size_t i = in.size() - 1 - k;
    const size_t o = out.size() - 1 - k;
    strides[o] = in[i] == 1 ? 0 : stride;
    stride *= in[i];
  }
  return strides;
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
    BF_RETURN_IF_ERROR(AttributeTypes());
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

  // Every attribute the ops read has its type checked here, so the typed
  // reads (Node::IntAttr, ...) of a graph that passed InferShapes never fall
  // back because of a mismatch.
  absl::Status AttributeTypes() const {
    enum Kind { kInt, kFloat, kInts };
    static const std::pair<const char*, Kind> kTypes[] = {
        {"transA", kInt},       {"transB", kInt},  {"group", kInt},
        {"axis", kInt},         {"count_include_pad", kInt},
        {"alpha", kFloat},      {"beta", kFloat},  {"epsilon", kFloat},
        {"strides", kInts},     {"pads", kInts},   {"dilations", kInts},
        {"kernel_shape", kInts}, {"shape", kInts}};
    for (const auto& [key, kind] : kTypes) {
      auto it = n_.attributes.find(key);
      if (it == n_.attributes.end()) continue;
      const bool ok = kind == kInt     ? std::holds_alternative<int64_t>(it->second)
                      : kind == kFloat ? std::holds_alternative<double>(it->second)
                                       : std::holds_alternative<std::vector<int64_t>>(it->second);
      if (!ok) {
        return absl::InvalidArgumentError(absl::StrCat(
            "attribute ", key, " is ", AttributeString(it->second), ", expected ",
            kind == kInt ? "an integer" : kind == kFloat ? "a float" : "a list of integers"));
      }
    }
    return absl::OkStatus();
  }

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
  absl::Status Ints(const std::string& key, size_t size, int64_t min,
                    int64_t max = kMaxWindow) const {
    auto it = n_.attributes.find(key);
    if (it == n_.attributes.end()) return absl::OkStatus();
    const auto* v = std::get_if<std::vector<int64_t>>(&it->second);
    if (v == nullptr || v->size() != size) {
      return absl::InvalidArgumentError(
          absl::StrCat("attribute ", key, " is ", AttributeString(it->second),
                       ", expected ", size, " integers"));
    }
    for (int64_t x : *v) {
      if (x < min || x > max) {
        return absl::InvalidArgumentError(
            absl::StrCat("attribute ", key, " is ", AttributeString(*v),
                         ", expected values in [", min, ", ", max, "]"));
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

  // Output extent of a sliding window (floor mode). The kernel extent k,
  // stride s, dilation d and pads pb, pe are checked against kMaxWindow here
  // (the attributes already by Ints), so the arithmetic below cannot
  // overflow; it is checked all the same.
  static absl::StatusOr<int64_t> Window(int64_t in, int64_t k, int64_t s,
                                        int64_t pb, int64_t pe, int64_t d,
                                        int axis) {
    if (k < 1 || k > kMaxWindow || s < 1 || s > kMaxWindow || d < 1 ||
        d > kMaxWindow || pb < 0 || pb > kMaxWindow || pe < 0 ||
        pe > kMaxWindow || in < 1 || in > kMaxElements) {
      return absl::InvalidArgumentError(absl::StrCat(
          "window on axis ", axis, " (input ", in, ", kernel ", k, ", stride ",
          s, ", dilation ", d, ", pads ", pb, ",", pe,
          ") is out of range: expected input >= 1, kernel, stride and "
          "dilation in [1, ", kMaxWindow, "], pads in [0, ", kMaxWindow, "]"));
    }
    const std::optional<int64_t> reach = CheckedMul(k - 1, d);
    const std::optional<int64_t> span = reach ? CheckedAdd(*reach, 1)
                                              : std::nullopt;
    const std::optional<int64_t> pads = CheckedAdd(pb, pe);
    const std::optional<int64_t> padded =
        pads ? CheckedAdd(in, *pads) : std::nullopt;
    if (!span || !padded) {
      return absl::InvalidArgumentError(absl::StrCat(
          "window on axis ", axis, " overflows int64"));
    }
    if (*padded < *span) {
      return absl::InvalidArgumentError(absl::StrCat(
          "window ", *span, " larger than padded input ", *padded,
          " on axis ", axis));
    }
    return (*padded - *span) / s + 1;
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
    // As ONNX requires: a pad as large as the kernel would leave windows
    // wholly in the padding, which average nothing (0 / 0).
    for (int i = 0; i < 4; ++i) {
      if (p[i] >= k[i % 2]) {
        return absl::InvalidArgumentError(absl::StrCat(
            "pads ", ShapeString(p), " must be smaller than kernel_shape ",
            ShapeString(k)));
      }
    }
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
    for (int64_t i = 0; i < r; ++i) {
      const std::optional<int64_t> d =
          BoundedMul(out[i < axis ? 0 : 1], x[i], kMaxElements);
      if (!d) return TooLarge(x);
      out[i < axis ? 0 : 1] = *d;
    }
    return out;
  }

  absl::StatusOr<Shape> Reshape() const {
    BF_RETURN_IF_ERROR(Arity(1, 1));
    const Shape& x = In(0);
    const Shape target = n_.IntsAttr("shape", {});
    if (target.size() > kMaxRank) {
      return absl::InvalidArgumentError(absl::StrCat(
          "target has ", target.size(), " dimensions, expected at most ",
          kMaxRank));
    }
    Shape out = target;
    int infer = -1;
    int64_t known = 1;  // product of the dimensions other than -1
    for (size_t i = 0; i < out.size(); ++i) {
      if (out[i] == 0) {
        if (i >= x.size()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "target ", ShapeString(target), " copies dimension ", i,
              " of input ", ShapeString(x), " which has none"));
        }
        out[i] = x[i];
      }
      if (out[i] == -1) {
        if (infer >= 0) {
          return absl::InvalidArgumentError(
              absl::StrCat("target ", ShapeString(target), " has two -1"));
        }
        infer = static_cast<int>(i);
        continue;
      }
      if (out[i] < 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "target ", ShapeString(target), " has a negative size"));
      }
      // A product past kMaxElements can never equal the input's size; an
      // unchecked one could wrap around to it.
      const std::optional<int64_t> k = BoundedMul(known, out[i], kMaxElements);
      if (!k) {
        return absl::InvalidArgumentError(absl::StrCat(
            "target ", ShapeString(target), " has more than ", kMaxElements,
            " elements; input ", ShapeString(x), " has ", NumElements(x)));
      }
      known = *k;
    }
    const int64_t total = NumElements(x);
    if (infer >= 0 && known > 0 && total % known == 0) {
      out[infer] = total / known;
    }
    const std::optional<int64_t> count = CheckedNumElements(out);
    if (!count || *count != total) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot reshape ", ShapeString(x), " (", total,
                       " elements) to ", ShapeString(target)));
    }
    return out;
  }

  static absl::Status TooLarge(const Shape& s) {
    return absl::InvalidArgumentError(absl::StrCat(
        "shape ", ShapeString(s), " has more than ", kMaxElements,
        " elements"));
  }

  const Graph& g_;
  const Node& n_;
};

std::string NodeLabel(const Graph& g, const Node& n) {
  return absl::StrCat("node '", n.name.empty() ? g.value(n.output).name : n.name,
                      "' (", OpKindName(n.op), ")");
}

}  // namespace

namespace {

// Multiply-adds of running `n` with output shape `out` (inputs as inferred);
// every factor is bounded by kMaxElements, so only products are checked.
std::optional<int64_t> NodeWork(const Graph& g, const Node& n,
                                const Shape& out) {
  const int64_t out_elements = NumElements(out);
  auto in = [&](int i) -> const Shape& { return g.value(n.inputs[i]).shape; };
  int64_t per_output = 1;
  switch (n.op) {
    case OpKind::kGemm:
      per_output = in(0)[n.IntAttr("transA", 0) != 0 ? 0 : 1];
      break;
    case OpKind::kMatMul:
      per_output = in(0)[1];
      break;
    case OpKind::kConv: {
      const Shape& w = in(1);
      std::optional<int64_t> k = CheckedMul(w[1], w[2]);
      if (k) k = CheckedMul(*k, w[3]);
      if (!k) return std::nullopt;
      per_output = *k;
      break;
    }
    case OpKind::kAveragePool: {
      const auto k = n.IntsAttr("kernel_shape", {1, 1});
      per_output = k[0] * k[1];  // each <= kMaxWindow
      break;
    }
    case OpKind::kGlobalAveragePool:
      per_output = in(0)[2] * in(0)[3];  // <= kMaxElements
      break;
    default:
      break;
  }
  return CheckedMul(out_elements, per_output);
}

// Label for errors about graph inputs and constants.
std::string ValueLabel(const Value& v) {
  return absl::StrCat("value '", v.name, "'");
}

// InferShapes (`mutable_graph` set: stores each node's shape) and
// CheckShapes (`mutable_graph` null: compares with the stored shape).
absl::Status WalkShapes(const Graph& graph, Graph* mutable_graph,
                        absl::string_view op) {
  BF_RETURN_IF_ERROR(Verify(graph));
  int64_t total = 0;  // elements of all values so far
  auto add_total = [&](int64_t elements, const std::string& what) {
    const std::optional<int64_t> t =
        BoundedAdd(total, elements, kMaxGraphElements);
    if (!t) {
      return absl::ResourceExhaustedError(absl::StrCat(
          op, ": ", what, ": the graph's values hold more than ",
          kMaxGraphElements, " elements together"));
    }
    total = *t;
    return absl::OkStatus();
  };
  std::vector<bool> is_output(graph.values().size(), false);
  for (const Node& n : graph.nodes()) is_output[n.output] = true;
  // Graph inputs and constants: what every node's arithmetic starts from.
  for (ValueId id = 0; id < static_cast<ValueId>(graph.values().size());
       ++id) {
    if (is_output[id]) continue;
    const Value& v = graph.value(id);
    const std::optional<int64_t> count = CheckedNumElements(v.shape);
    if (v.shape.size() > kMaxRank || !count) {
      return absl::InvalidArgumentError(absl::StrCat(
          op, ": ", ValueLabel(v), " has shape ", ShapeString(v.shape),
          ", expected rank <= ", kMaxRank, ", dimensions >= 0 and at most ",
          kMaxElements, " elements"));
    }
    BF_RETURN_IF_ERROR(add_total(*count, ValueLabel(v)));
  }
  int64_t work = 0;
  for (const Node& n : graph.nodes()) {
    const std::string label = absl::StrCat(op, ": ", NodeLabel(graph, n));
    // No empty operand: the executor divides by and indexes with these
    // dimensions (an empty constant is legal ONNX, but no supported op
    // computes anything from one).
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      const Value& v = graph.value(n.inputs[i]);
      for (int64_t d : v.shape) {
        if (d <= 0) {
          return absl::InvalidArgumentError(absl::StrCat(
              label, ": input ", i, " ('", v.name, "') has shape ",
              ShapeString(v.shape), " with an empty dimension"));
        }
      }
    }
    absl::StatusOr<Shape> shape = ShapeRules(graph, n).Infer();
    if (!shape.ok()) return AnnotateStatus(shape.status(), label);
    for (int64_t d : *shape) {
      if (d <= 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(label, ": output shape ", ShapeString(*shape),
                         " has an empty dimension"));
      }
    }
    const std::optional<int64_t> count = CheckedNumElements(*shape);
    if (shape->size() > kMaxRank || !count) {
      return absl::InvalidArgumentError(absl::StrCat(
          label, ": output shape ", ShapeString(*shape), " has rank ",
          shape->size(), " and ",
          count ? absl::StrCat(*count) : std::string("too many"),
          " elements, expected rank <= ", kMaxRank, " and at most ",
          kMaxElements, " elements"));
    }
    BF_RETURN_IF_ERROR(add_total(*count, NodeLabel(graph, n)));
    const std::optional<int64_t> node_work = NodeWork(graph, n, *shape);
    const std::optional<int64_t> w =
        node_work ? BoundedAdd(work, *node_work, kMaxWork) : std::nullopt;
    if (!w) {
      return absl::ResourceExhaustedError(absl::StrCat(
          label, ": running the graph up to this node takes more than ",
          kMaxWork, " multiply-adds"));
    }
    work = *w;
    if (mutable_graph != nullptr) {
      mutable_graph->mutable_value(n.output).shape = *std::move(shape);
    } else if (graph.value(n.output).shape != *shape) {
      return absl::InvalidArgumentError(absl::StrCat(
          label, ": output has shape ", ShapeString(graph.value(n.output).shape),
          ", expected ", ShapeString(*shape)));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status InferShapes(Graph& graph) {
  return WalkShapes(graph, &graph, "InferShapes");
}

absl::Status CheckShapes(const Graph& graph) {
  return WalkShapes(graph, nullptr, "CheckShapes");
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
      const std::optional<int64_t> count =
          CheckedNumElements(v.constant->shape);
      if (!count ||
          static_cast<int64_t>(v.constant->data.size()) != *count ||
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
