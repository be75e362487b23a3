// File: compiler/onnx/model_builder.h
// Builds small ONNX models with the protobuf API, for tests and the fuzz
// seed generator (not part of the importer): one float graph input, FLOAT or
// INT64 initializers, nodes with INT/FLOAT/INTS/STRING attributes.
#ifndef BLINDFOLD_COMPILER_ONNX_MODEL_BUILDER_H_
#define BLINDFOLD_COMPILER_ONNX_MODEL_BUILDER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "onnx/onnx_pb.h"

namespace blindfold::compiler::onnx_build {

class ModelBuilder {
 public:
  // A model with opset `opset` and one FLOAT input "x" of `input_shape`.
  explicit ModelBuilder(std::vector<int64_t> input_shape, int opset = 13) {
    model_.set_ir_version(7);
    auto* o = model_.add_opset_import();
    o->set_domain("");
    o->set_version(opset);
    graph()->set_name("test");
    auto* in = graph()->add_input();
    in->set_name("x");
    auto* tt = in->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    for (int64_t d : input_shape) tt->mutable_shape()->add_dim()->set_dim_value(d);
  }

  onnx::GraphProto* graph() { return model_.mutable_graph(); }
  onnx::ModelProto& model() { return model_; }

  // A FLOAT initializer; raw_data or float_data.
  onnx::TensorProto* Init(const std::string& name, std::vector<int64_t> shape,
                          std::vector<float> values, bool raw = true) {
    auto* t = graph()->add_initializer();
    FillTensor(t, name, shape, values, raw);
    return t;
  }
  static void FillTensor(onnx::TensorProto* t, const std::string& name,
                         std::vector<int64_t> shape, std::vector<float> values,
                         bool raw = true) {
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : shape) t->add_dims(d);
    if (raw) {
      t->set_raw_data(std::string(reinterpret_cast<const char*>(values.data()),
                                  values.size() * sizeof(float)));
    } else {
      for (float v : values) t->add_float_data(v);
    }
  }
  // A 1-D INT64 initializer (a Reshape target).
  void InitInt64(const std::string& name, std::vector<int64_t> values) {
    auto* t = graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(static_cast<int64_t>(values.size()));
    for (int64_t v : values) t->add_int64_data(v);
  }

  // A node named `name` (default "<op>_node").
  onnx::NodeProto* Node(const std::string& op, std::vector<std::string> inputs,
                        const std::string& output, std::string name = "") {
    auto* n = graph()->add_node();
    n->set_op_type(op);
    n->set_name(name.empty() ? op + "_node" : name);
    for (auto& i : inputs) n->add_input(i);
    n->add_output(output);
    return n;
  }
  static void Int(onnx::NodeProto* n, const std::string& key, int64_t v) {
    auto* a = n->add_attribute();
    a->set_name(key);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void Float(onnx::NodeProto* n, const std::string& key, float v) {
    auto* a = n->add_attribute();
    a->set_name(key);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }
  static void Ints(onnx::NodeProto* n, const std::string& key,
                   std::vector<int64_t> v) {
    auto* a = n->add_attribute();
    a->set_name(key);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }
  static void String(onnx::NodeProto* n, const std::string& key,
                     const std::string& v) {
    auto* a = n->add_attribute();
    a->set_name(key);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(v);
  }

  void Output(const std::string& name) { graph()->add_output()->set_name(name); }

  std::string Bytes() const { return model_.SerializeAsString(); }

 private:
  onnx::ModelProto model_;
};

}  // namespace blindfold::compiler::onnx_build

#endif  // BLINDFOLD_COMPILER_ONNX_MODEL_BUILDER_H_
