// File: compiler/onnx/importer.cc
#include "compiler/onnx/importer.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <new>
#include <set>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status.h"
#include "onnx/onnx_pb.h"

namespace blindfold::compiler {
namespace {

using ir::Attribute;
using ir::OpKind;
using ir::ValueId;

// ONNX op type -> IR op (Constant and Pow are handled specially).
const std::map<std::string, OpKind>& SimpleOps() {
  static const auto* ops = new std::map<std::string, OpKind>{
      {"Add", OpKind::kAdd},
      {"AveragePool", OpKind::kAveragePool},
      {"BatchNormalization", OpKind::kBatchNormalization},
      {"Conv", OpKind::kConv},
      {"Flatten", OpKind::kFlatten},
      {"Gemm", OpKind::kGemm},
      {"GlobalAveragePool", OpKind::kGlobalAveragePool},
      {"Identity", OpKind::kIdentity},
      {"MatMul", OpKind::kMatMul},
      {"Mul", OpKind::kMul},
      {"Relu", OpKind::kRelu},
      {"Reshape", OpKind::kReshape},
      {"Sigmoid", OpKind::kSigmoid},
      {"Sub", OpKind::kSub},
  };
  return *ops;
}

// The attributes each op may carry; any other is rejected, so an attribute
// that would change the meaning is never silently dropped.
const std::set<std::string>& KnownAttributes(const std::string& op) {
  static const auto* known = new std::map<std::string, std::set<std::string>>{
      {"Gemm", {"alpha", "beta", "transA", "transB"}},
      {"Conv",
       {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"}},
      {"AveragePool",
       {"auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads",
        "strides"}},
      {"BatchNormalization", {"epsilon", "momentum", "training_mode"}},
      {"Flatten", {"axis"}},
      {"Reshape", {"allowzero"}},
      {"Constant",
       {"value", "value_float", "value_floats", "value_int", "value_ints"}},
  };
  static const auto* none = new std::set<std::string>();
  auto it = known->find(op);
  return it == known->end() ? *none : it->second;
}

absl::Status Unsupported(const onnx::NodeProto& n, const std::string& what) {
  return absl::UnimplementedError(absl::StrCat(
      "ImportOnnx: node '", n.name(), "' (", n.op_type(), "): ", what,
      "; supported ops: ", SupportedOnnxOps()));
}

absl::Status Invalid(const onnx::NodeProto& n, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(
      "ImportOnnx: node '", n.name(), "' (", n.op_type(), "): ", what));
}

// Copies `count` little-endian elements of type T from raw bytes.
template <typename T>
void FromRaw(const std::string& raw, int64_t count, std::vector<double>& out) {
  out.resize(count);
  for (int64_t i = 0; i < count; ++i) {
    T v;
    std::memcpy(&v, raw.data() + i * sizeof(T), sizeof(T));
    out[i] = static_cast<double>(v);
  }
}

template <typename Repeated>
void FromRepeated(const Repeated& r, std::vector<double>& out) {
  out.assign(r.begin(), r.end());
}

absl::StatusOr<ir::Tensor> ConvertTensor(const onnx::TensorProto& t) {
  const std::string where = absl::StrCat("ImportOnnx: tensor '", t.name(), "'");
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    return absl::UnimplementedError(
        absl::StrCat(where, ": external data is not supported"));
  }
  if (static_cast<size_t>(t.dims_size()) > ir::kMaxRank) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": has ", t.dims_size(), " dimensions, expected at most ",
        ir::kMaxRank));
  }
  ir::Tensor out;
  int64_t count = 1;
  for (int64_t d : t.dims()) {
    if (d < 0 || d > kMaxTensorElements ||
        (d > 0 && count > kMaxTensorElements / d)) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": dimensions [", absl::StrJoin(t.dims(), ","),
          "] exceed ", kMaxTensorElements, " elements or are negative"));
    }
    count *= d;
    out.shape.push_back(d);
  }
  size_t elem_size = 0;
  int stored = 0;
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
      elem_size = 4;
      stored = t.float_data_size();
      break;
    case onnx::TensorProto::DOUBLE:
      elem_size = 8;
      stored = t.double_data_size();
      break;
    case onnx::TensorProto::INT64:
      elem_size = 8;
      stored = t.int64_data_size();
      break;
    case onnx::TensorProto::INT32:
      elem_size = 4;
      stored = t.int32_data_size();
      break;
    default:
      return absl::UnimplementedError(absl::StrCat(
          where, ": data type ", t.data_type(),
          " is not supported (FLOAT, DOUBLE, INT64, INT32 are)"));
  }
  if (t.has_raw_data()) {
    if (t.raw_data().size() != count * elem_size) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": raw_data is ", t.raw_data().size(), " bytes, expected ",
          count * elem_size, " for shape [", absl::StrJoin(t.dims(), ","),
          "]"));
    }
    switch (t.data_type()) {
      case onnx::TensorProto::FLOAT:
        FromRaw<float>(t.raw_data(), count, out.data);
        break;
      case onnx::TensorProto::DOUBLE:
        FromRaw<double>(t.raw_data(), count, out.data);
        break;
      case onnx::TensorProto::INT64:
        FromRaw<int64_t>(t.raw_data(), count, out.data);
        break;
      default:
        FromRaw<int32_t>(t.raw_data(), count, out.data);
        break;
    }
    return out;
  }
  if (stored != count) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": holds ", stored, " values, expected ", count,
                     " for shape [", absl::StrJoin(t.dims(), ","), "]"));
  }
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
      FromRepeated(t.float_data(), out.data);
      break;
    case onnx::TensorProto::DOUBLE:
      FromRepeated(t.double_data(), out.data);
      break;
    case onnx::TensorProto::INT64:
      FromRepeated(t.int64_data(), out.data);
      break;
    default:
      FromRepeated(t.int32_data(), out.data);
      break;
  }
  return out;
}

class Importer {
 public:
  absl::StatusOr<ir::Graph> Run(const onnx::ModelProto& model) {
    BF_RETURN_IF_ERROR(CheckOpset(model));
    const onnx::GraphProto& g = model.graph();
    if (g.node_size() > kMaxOnnxNodes) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "ImportOnnx: graph has ", g.node_size(), " nodes, limit ",
          kMaxOnnxNodes));
    }
    if (g.initializer_size() > kMaxOnnxInitializers) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "ImportOnnx: graph has ", g.initializer_size(),
          " initializers, limit ", kMaxOnnxInitializers));
    }
    graph_.name = g.name();
    for (const onnx::TensorProto& t : g.initializer()) {
      if (!initializers_.emplace(t.name(), &t).second) {
        return absl::InvalidArgumentError(absl::StrCat(
            "ImportOnnx: initializer '", t.name(), "' defined twice"));
      }
    }
    BF_RETURN_IF_ERROR(AddGraphInput(g));
    for (const onnx::NodeProto& n : g.node()) {
      BF_RETURN_IF_ERROR(ConvertNode(n));
    }
    if (g.output_size() != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ImportOnnx: graph has ", g.output_size(),
          " outputs, expected exactly 1"));
    }
    auto out = names_.find(g.output(0).name());
    if (out == names_.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("ImportOnnx: graph output '", g.output(0).name(),
                       "' is not computed by any node"));
    }
    graph_.AddOutput(out->second);
    BF_RETURN_IF_ERROR(AnnotateStatus(ir::InferShapes(graph_), "ImportOnnx"));
    return std::move(graph_);
  }

 private:
  static absl::Status CheckOpset(const onnx::ModelProto& model) {
    for (const onnx::OperatorSetIdProto& o : model.opset_import()) {
      if (o.domain().empty() || o.domain() == "ai.onnx") {
        if (o.version() < kMinOnnxOpset || o.version() > kMaxOnnxOpset) {
          return absl::UnimplementedError(absl::StrCat(
              "ImportOnnx: opset ", o.version(), " is not supported, expected ",
              kMinOnnxOpset, " to ", kMaxOnnxOpset));
        }
        return absl::OkStatus();
      }
    }
    return absl::InvalidArgumentError(
        "ImportOnnx: model has no opset for the default ONNX domain (not an "
        "ONNX model, or a truncated one)");
  }

  absl::Status AddGraphInput(const onnx::GraphProto& g) {
    const onnx::ValueInfoProto* input = nullptr;
    int count = 0;
    for (const onnx::ValueInfoProto& v : g.input()) {
      if (initializers_.contains(v.name())) continue;  // old-style weights
      input = &v;
      ++count;
    }
    if (count != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ImportOnnx: graph has ", count,
          " inputs that are not initializers, expected exactly 1"));
    }
    const std::string where =
        absl::StrCat("ImportOnnx: input '", input->name(), "'");
    if (!input->type().has_tensor_type()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": not a tensor"));
    }
    const onnx::TypeProto::Tensor& tt = input->type().tensor_type();
    if (tt.elem_type() != onnx::TensorProto::FLOAT &&
        tt.elem_type() != onnx::TensorProto::DOUBLE) {
      return absl::UnimplementedError(absl::StrCat(
          where, ": element type ", tt.elem_type(),
          ", expected FLOAT (1) or DOUBLE (11)"));
    }
    if (!tt.has_shape()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": no shape"));
    }
    if (static_cast<size_t>(tt.shape().dim_size()) > ir::kMaxRank) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": has ", tt.shape().dim_size(),
          " dimensions, expected at most ", ir::kMaxRank));
    }
    ir::Shape shape;
    int64_t total = 1;
    for (int i = 0; i < tt.shape().dim_size(); ++i) {
      const onnx::TensorShapeProto::Dimension& d = tt.shape().dim(i);
      if (!d.has_dim_value()) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": dimension ", i, " is symbolic ('", d.dim_param(),
            "'); export the model with a fixed input shape"));
      }
      if (d.dim_value() <= 0 || d.dim_value() > kMaxTensorElements / total) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": dimension ", i, " is ", d.dim_value(),
            ", expected 1 to ", kMaxTensorElements / total));
      }
      total *= d.dim_value();
      shape.push_back(d.dim_value());
    }
    names_[input->name()] = graph_.AddInput(input->name(), std::move(shape));
    return absl::OkStatus();
  }

  // The value of input `i` of `n`: an earlier value or an initializer
  // (converted on first use).
  absl::StatusOr<ValueId> Input(const onnx::NodeProto& n, int i) {
    const std::string& name = n.input(i);
    if (auto it = names_.find(name); it != names_.end()) return it->second;
    if (auto it = initializers_.find(name); it != initializers_.end()) {
      BF_ASSIGN_OR_RETURN(ir::Tensor t, ConvertTensor(*it->second));
      ValueId id = graph_.AddConstant(name, std::move(t));
      names_[name] = id;
      return id;
    }
    return Invalid(n, absl::StrCat("input ", i, " '", name,
                                   "' is not defined: no initializer, "
                                   "Constant, graph input or earlier node "
                                   "output has that name (missing weight?)"));
  }

  absl::StatusOr<const onnx::AttributeProto*> Attr(const onnx::NodeProto& n,
                                                   const std::string& key,
                                                   onnx::AttributeProto_AttributeType type) {
    for (const onnx::AttributeProto& a : n.attribute()) {
      if (a.name() != key) continue;
      if (a.type() != type) {
        return Invalid(n, absl::StrCat("attribute ", key, " has type ",
                                       a.type(), ", expected ", type));
      }
      return &a;
    }
    return nullptr;
  }
  absl::StatusOr<int64_t> IntAttr(const onnx::NodeProto& n,
                                  const std::string& key, int64_t fallback) {
    BF_ASSIGN_OR_RETURN(auto* a, Attr(n, key, onnx::AttributeProto::INT));
    return a ? a->i() : fallback;
  }
  absl::StatusOr<double> FloatAttr(const onnx::NodeProto& n,
                                   const std::string& key, double fallback) {
    BF_ASSIGN_OR_RETURN(auto* a, Attr(n, key, onnx::AttributeProto::FLOAT));
    return a ? a->f() : fallback;
  }
  absl::StatusOr<std::vector<int64_t>> IntsAttr(const onnx::NodeProto& n,
                                                const std::string& key,
                                                std::vector<int64_t> fallback) {
    BF_ASSIGN_OR_RETURN(auto* a, Attr(n, key, onnx::AttributeProto::INTS));
    if (a == nullptr) return fallback;
    return std::vector<int64_t>(a->ints().begin(), a->ints().end());
  }
  absl::Status CheckAutoPad(const onnx::NodeProto& n) {
    BF_ASSIGN_OR_RETURN(auto* a, Attr(n, "auto_pad", onnx::AttributeProto::STRING));
    if (a != nullptr && a->s() != "NOTSET" && a->s() != "VALID") {
      return Unsupported(n, absl::StrCat("auto_pad ", a->s(),
                                         " is not supported (NOTSET, VALID)"));
    }
    return absl::OkStatus();
  }

  // Window attributes shared by Conv and AveragePool, with ONNX defaults.
  absl::Status WindowAttrs(const onnx::NodeProto& n,
                           std::map<std::string, Attribute>& attrs) {
    BF_RETURN_IF_ERROR(CheckAutoPad(n));
    BF_ASSIGN_OR_RETURN(attrs["strides"], IntsAttr(n, "strides", {1, 1}));
    BF_ASSIGN_OR_RETURN(attrs["pads"], IntsAttr(n, "pads", {0, 0, 0, 0}));
    BF_ASSIGN_OR_RETURN(auto k, IntsAttr(n, "kernel_shape", {}));
    if (!k.empty()) attrs["kernel_shape"] = k;
    return absl::OkStatus();
  }

  absl::Status ConvertNode(const onnx::NodeProto& n) {
    if (!n.domain().empty() && n.domain() != "ai.onnx") {
      return Unsupported(n, absl::StrCat("domain '", n.domain(),
                                         "' is not supported"));
    }
    const std::string& op = n.op_type();
    const bool simple = SimpleOps().contains(op);
    if (!simple && op != "Constant" && op != "Pow") {
      return Unsupported(n, absl::StrCat("op type '", op,
                                         "' is not supported"));
    }
    for (const onnx::AttributeProto& a : n.attribute()) {
      if (!KnownAttributes(op).contains(a.name())) {
        return Unsupported(n, absl::StrCat("attribute '", a.name(),
                                           "' is not supported"));
      }
    }
    int outputs = 0;
    for (const std::string& o : n.output()) outputs += !o.empty();
    if (outputs != 1 || n.output(0).empty()) {
      return Unsupported(n, absl::StrCat("has ", outputs,
                                         " outputs; only the first and only "
                                         "output is supported"));
    }
    const std::string& out_name = n.output(0);
    if (names_.contains(out_name) || initializers_.contains(out_name)) {
      return Invalid(n, absl::StrCat("output '", out_name,
                                     "' is already defined"));
    }
    if (op == "Constant") return ConvertConstant(n);

    std::vector<ValueId> inputs;
    for (int i = 0; i < n.input_size(); ++i) {
      if (n.input(i).empty()) {  // an omitted optional input
        if (i + 1 != n.input_size()) {
          return Unsupported(n, "omitted inputs before the last one");
        }
        break;
      }
      BF_ASSIGN_OR_RETURN(ValueId id, Input(n, i));
      inputs.push_back(id);
    }
    std::map<std::string, Attribute> attrs;
    OpKind kind = OpKind::kIdentity;
    if (op == "Pow") {
      if (inputs.size() != 2) return Invalid(n, "expected 2 inputs");
      const auto& e = graph_.value(inputs[1]).constant;
      if (!e || e->data.size() != 1) {
        return Unsupported(n, "exponent must be a constant scalar");
      }
      if (e->data[0] != 2.0) {
        return Unsupported(n, absl::StrCat("exponent ", e->data[0],
                                           " is not supported (only 2)"));
      }
      inputs.pop_back();
      kind = OpKind::kSquare;
    } else {
      kind = SimpleOps().at(op);
    }
    switch (kind) {
      case OpKind::kGemm: {
        BF_ASSIGN_OR_RETURN(double alpha, FloatAttr(n, "alpha", 1.0));
        BF_ASSIGN_OR_RETURN(double beta, FloatAttr(n, "beta", 1.0));
        BF_ASSIGN_OR_RETURN(int64_t ta, IntAttr(n, "transA", 0));
        BF_ASSIGN_OR_RETURN(int64_t tb, IntAttr(n, "transB", 0));
        attrs = {{"alpha", alpha}, {"beta", beta}, {"transA", ta},
                 {"transB", tb}};
        break;
      }
      case OpKind::kConv: {
        BF_RETURN_IF_ERROR(WindowAttrs(n, attrs));
        BF_ASSIGN_OR_RETURN(attrs["dilations"], IntsAttr(n, "dilations", {1, 1}));
        BF_ASSIGN_OR_RETURN(int64_t group, IntAttr(n, "group", 1));
        if (group != 1) {
          return Unsupported(n, absl::StrCat("group ", group,
                                             " is not supported (only 1)"));
        }
        attrs["group"] = group;
        if (inputs.size() >= 2 && attrs.contains("kernel_shape")) {
          const ir::Shape& w = graph_.value(inputs[1]).shape;
          const auto& k = std::get<std::vector<int64_t>>(attrs["kernel_shape"]);
          if (w.size() != k.size() + 2 ||
              !std::equal(k.begin(), k.end(), w.begin() + 2)) {
            return Invalid(n, absl::StrCat("kernel_shape ",
                                           ir::ShapeString(k),
                                           " does not match weight shape ",
                                           ir::ShapeString(w)));
          }
        }
        attrs.erase("kernel_shape");  // implied by the weight
        break;
      }
      case OpKind::kAveragePool: {
        BF_RETURN_IF_ERROR(WindowAttrs(n, attrs));
        BF_ASSIGN_OR_RETURN(int64_t ceil, IntAttr(n, "ceil_mode", 0));
        if (ceil != 0) return Unsupported(n, "ceil_mode 1 is not supported");
        BF_ASSIGN_OR_RETURN(attrs["count_include_pad"],
                            IntAttr(n, "count_include_pad", 0));
        break;
      }
      case OpKind::kBatchNormalization: {
        BF_ASSIGN_OR_RETURN(attrs["epsilon"], FloatAttr(n, "epsilon", 1e-5));
        BF_ASSIGN_OR_RETURN(int64_t training, IntAttr(n, "training_mode", 0));
        if (training != 0) {
          return Unsupported(n, "training_mode 1 is not supported");
        }
        break;
      }
      case OpKind::kFlatten: {
        BF_ASSIGN_OR_RETURN(attrs["axis"], IntAttr(n, "axis", 1));
        break;
      }
      case OpKind::kReshape: {
        BF_ASSIGN_OR_RETURN(int64_t allowzero, IntAttr(n, "allowzero", 0));
        if (allowzero != 0) return Unsupported(n, "allowzero 1 is not supported");
        if (inputs.size() != 2) return Invalid(n, "expected 2 inputs");
        const auto& target = graph_.value(inputs[1]).constant;
        if (!target || target->shape.size() != 1) {
          return Unsupported(n, "the target shape must be a constant 1-D "
                                "tensor (computed shapes are not supported)");
        }
        BF_ASSIGN_OR_RETURN(attrs["shape"], ReshapeTarget(n, *target));
        inputs.pop_back();
        break;
      }
      default:
        break;
    }
    names_[out_name] = graph_.AddNode(kind, n.name(), std::move(inputs),
                                      out_name, std::move(attrs));
    return absl::OkStatus();
  }

  // The target of a Reshape, held as doubles like every constant: each value
  // must be a whole number in [-1, kMaxTensorElements] before it is cast
  // (casting a NaN, an infinity or a value past int64 is undefined, and a
  // fraction would be truncated into a different shape).
  static absl::StatusOr<std::vector<int64_t>> ReshapeTarget(
      const onnx::NodeProto& n, const ir::Tensor& target) {
    if (target.data.size() > ir::kMaxRank) {
      return Invalid(n, absl::StrCat("target shape has ", target.data.size(),
                                     " dimensions, expected at most ",
                                     ir::kMaxRank));
    }
    std::vector<int64_t> dims;
    for (double v : target.data) {
      if (!std::isfinite(v) || v != std::trunc(v) || v < -1 ||
          v > static_cast<double>(kMaxTensorElements)) {
        return Invalid(n, absl::StrCat(
                              "target shape value ", v,
                              " is not a whole number in [-1, ",
                              kMaxTensorElements, "]"));
      }
      dims.push_back(static_cast<int64_t>(v));
    }
    return dims;
  }

  absl::Status ConvertConstant(const onnx::NodeProto& n) {
    if (n.attribute_size() != 1) {
      return Invalid(n, absl::StrCat("has ", n.attribute_size(),
                                     " attributes, expected 1"));
    }
    const onnx::AttributeProto& a = n.attribute(0);
    static const auto* types =
        new std::map<std::string, onnx::AttributeProto_AttributeType>{
            {"value", onnx::AttributeProto::TENSOR},
            {"value_float", onnx::AttributeProto::FLOAT},
            {"value_floats", onnx::AttributeProto::FLOATS},
            {"value_int", onnx::AttributeProto::INT},
            {"value_ints", onnx::AttributeProto::INTS}};
    BF_RETURN_IF_ERROR(Attr(n, a.name(), types->at(a.name())).status());
    ir::Tensor t;
    if (a.name() == "value") {
      BF_ASSIGN_OR_RETURN(t, ConvertTensor(a.t()));
    } else if (a.name() == "value_float") {
      t = {{}, {a.f()}};
    } else if (a.name() == "value_int") {
      t = {{}, {static_cast<double>(a.i())}};
    } else if (a.name() == "value_floats") {
      t = {{a.floats_size()}, {a.floats().begin(), a.floats().end()}};
    } else {
      t = {{a.ints_size()}, {a.ints().begin(), a.ints().end()}};
    }
    names_[n.output(0)] = graph_.AddConstant(n.output(0), std::move(t));
    return absl::OkStatus();
  }

  ir::Graph graph_;
  absl::flat_hash_map<std::string, ValueId> names_;
  absl::flat_hash_map<std::string, const onnx::TensorProto*> initializers_;
};

}  // namespace

std::string SupportedOnnxOps() {
  std::vector<std::string> ops;
  for (const auto& [name, kind] : SimpleOps()) ops.push_back(name);
  ops.push_back("Constant");
  ops.push_back("Pow (exponent 2)");
  std::sort(ops.begin(), ops.end());
  return absl::StrJoin(ops, ", ");
}

absl::StatusOr<ir::Graph> ImportOnnx(std::string_view bytes) {
  if (bytes.size() > kMaxOnnxBytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "ImportOnnx: model is ", bytes.size(), " bytes, limit ",
        kMaxOnnxBytes));
  }
  // Protobuf reports errors by return value; bad_alloc is the one exception
  // it can throw, and no exception may leave project code.
  try {
    onnx::ModelProto model;
    if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ImportOnnx: ", bytes.size(),
          " bytes do not parse as an ONNX ModelProto (truncated or damaged "
          "file?)"));
    }
    return Importer().Run(model);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("ImportOnnx: out of memory");
  }
}

absl::StatusOr<ir::Graph> ImportOnnxFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("ImportOnnxFile: cannot open ", path));
  }
  const std::streamoff size = in.tellg();
  if (size < 0 || static_cast<uint64_t>(size) > kMaxOnnxBytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("ImportOnnxFile: ", path, " is ", size,
                     " bytes, limit ", kMaxOnnxBytes));
  }
  std::string bytes(static_cast<size_t>(size), '\0');
  in.seekg(0);
  if (!in.read(bytes.data(), size)) {
    return absl::DataLossError(
        absl::StrCat("ImportOnnxFile: cannot read ", path));
  }
  absl::StatusOr<ir::Graph> g = ImportOnnx(bytes);
  if (!g.ok()) {
    return AnnotateStatus(g.status(), absl::StrCat("ImportOnnxFile ", path));
  }
  if (g->name.empty()) g->name = path;
  return g;
}

}  // namespace blindfold::compiler
