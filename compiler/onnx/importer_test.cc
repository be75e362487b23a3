// File: compiler/onnx/importer_test.cc
// The ONNX importer on small models built here with the ONNX protobuf API:
// every supported op, and every rejection (unsupported ops and attributes,
// damaged bytes, missing weights, bad shapes).
#include "absl/strings/str_cat.h"
#include "compiler/onnx/importer.h"

#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "compiler/ir/dump.h"
#include "compiler/onnx/hostile_models.h"
#include "compiler/onnx/model_builder.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "onnx/onnx_pb.h"

namespace blindfold::compiler {
namespace {

using ir::OpKind;
using ::testing::HasSubstr;

// ModelBuilder (model_builder.h) with the import step.
class ModelBuilder : public onnx_build::ModelBuilder {
 public:
  using onnx_build::ModelBuilder::ModelBuilder;
  absl::StatusOr<ir::Graph> Import() const { return ImportOnnx(Bytes()); }
};

std::vector<float> Iota(int n, float scale = 0.1f) {
  std::vector<float> v(n);
  for (int i = 0; i < n; ++i) v[i] = scale * static_cast<float>(i - n / 2);
  return v;
}

// The single node of an imported graph.
const ir::Node& OnlyNode(const ir::Graph& g) {
  EXPECT_EQ(g.nodes().size(), 1u);
  return g.nodes().front();
}

const ir::Shape& OutputShape(const ir::Graph& g) {
  return g.value(g.outputs()[0]).shape;
}

TEST(ImportOnnxTest, Gemm) {
  ModelBuilder b({1, 6});
  b.Init("W", {4, 6}, Iota(24));
  b.Init("B", {4}, Iota(4), /*raw=*/false);
  auto* n = b.Node("Gemm", {"x", "W", "B"}, "y");
  ModelBuilder::Int(n, "transB", 1);
  ModelBuilder::Float(n, "alpha", 0.5f);
  b.Output("y");
  auto g = b.Import();
  ASSERT_TRUE(g.ok()) << g.status();
  const ir::Node& node = OnlyNode(*g);
  EXPECT_EQ(node.op, OpKind::kGemm);
  EXPECT_EQ(node.IntAttr("transB", 0), 1);
  EXPECT_EQ(node.IntAttr("transA", 7), 0);
  EXPECT_DOUBLE_EQ(node.FloatAttr("alpha", 0), 0.5);
  EXPECT_DOUBLE_EQ(node.FloatAttr("beta", 0), 1.0);
  EXPECT_EQ(OutputShape(*g), (ir::Shape{1, 4}));
  // Weights arrive in double precision, float_data and raw_data alike.
  const ir::Tensor& w = *g->value(node.inputs[1]).constant;
  EXPECT_EQ(w.shape, (ir::Shape{4, 6}));
  EXPECT_DOUBLE_EQ(w.data[13], static_cast<double>(0.1f * 1));
  const ir::Tensor& bias = *g->value(node.inputs[2]).constant;
  EXPECT_DOUBLE_EQ(bias.data[3], static_cast<double>(0.1f * 1));
}

TEST(ImportOnnxTest, MatMulAndBinaryOps) {
  ModelBuilder b({2, 3});
  b.Init("W", {3, 5}, Iota(15));
  b.Init("c", {5}, Iota(5));
  b.Init("s", {}, {2.0f});
  b.Node("MatMul", {"x", "W"}, "m");
  b.Node("Add", {"m", "c"}, "a");
  b.Node("Sub", {"a", "c"}, "s1");
  b.Node("Mul", {"s", "s1"}, "p");
  b.Node("Mul", {"p", "p"}, "sq", "square");
  b.Output("sq");
  auto g = b.Import();
  ASSERT_TRUE(g.ok()) << g.status();
  ASSERT_EQ(g->nodes().size(), 5u);
  EXPECT_EQ(g->nodes()[0].op, OpKind::kMatMul);
  EXPECT_EQ(g->nodes()[1].op, OpKind::kAdd);
  EXPECT_EQ(g->nodes()[2].op, OpKind::kSub);
  EXPECT_EQ(g->nodes()[3].op, OpKind::kMul);
  EXPECT_EQ(g->nodes()[4].op, OpKind::kMul);
  EXPECT_EQ(g->nodes()[4].inputs[0], g->nodes()[4].inputs[1]);
  EXPECT_EQ(OutputShape(*g), (ir::Shape{2, 5}));
}

TEST(ImportOnnxTest, PowTwoBecomesSquare) {
  ModelBuilder b({1, 4});
  auto* c = b.Node("Constant", {}, "two");
  auto* a = c->add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  ModelBuilder::FillTensor(a->mutable_t(), "", {}, {2.0f});
  b.Node("Pow", {"x", "two"}, "y");
  b.Output("y");
  auto g = b.Import();
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(OnlyNode(*g).op, OpKind::kSquare);
  EXPECT_EQ(OnlyNode(*g).inputs.size(), 1u);
}

TEST(ImportOnnxTest, ConvPoolsBatchNorm) {
  ModelBuilder b({1, 1, 28, 28});
  b.Init("W", {5, 1, 5, 5}, Iota(125, 0.01f));
  b.Init("B", {5}, Iota(5));
  for (const char* p : {"scale", "bias", "mean"}) b.Init(p, {5}, Iota(5));
  b.Init("var", {5}, {1, 2, 3, 4, 5});
  auto* conv = b.Node("Conv", {"x", "W", "B"}, "c");
  ModelBuilder::Ints(conv, "strides", {2, 2});
  ModelBuilder::Ints(conv, "pads", {1, 1, 1, 1});
  ModelBuilder::Ints(conv, "kernel_shape", {5, 5});
  ModelBuilder::Int(conv, "group", 1);
  auto* bn = b.Node("BatchNormalization", {"c", "scale", "bias", "mean", "var"},
                    "bn");
  ModelBuilder::Float(bn, "epsilon", 1e-3f);
  auto* pool = b.Node("AveragePool", {"bn"}, "p");
  ModelBuilder::Ints(pool, "kernel_shape", {2, 2});
  ModelBuilder::Ints(pool, "strides", {2, 2});
  b.Node("GlobalAveragePool", {"p"}, "g");
  b.Output("g");
  auto g = b.Import();
  ASSERT_TRUE(g.ok()) << g.status();
  ASSERT_EQ(g->nodes().size(), 4u);
  EXPECT_EQ(g->nodes()[0].op, OpKind::kConv);
  EXPECT_EQ(g->value(g->nodes()[0].output).shape, (ir::Shape{1, 5, 13, 13}));
  EXPECT_EQ(g->nodes()[1].op, OpKind::kBatchNormalization);
  EXPECT_NEAR(g->nodes()[1].FloatAttr("epsilon", 0), 1e-3, 1e-9);
  EXPECT_EQ(g->nodes()[2].op, OpKind::kAveragePool);
  EXPECT_EQ(g->value(g->nodes()[2].output).shape, (ir::Shape{1, 5, 6, 6}));
  EXPECT_EQ(g->nodes()[2].IntAttr("count_include_pad", 9), 0);
  EXPECT_EQ(g->nodes()[3].op, OpKind::kGlobalAveragePool);
  EXPECT_EQ(OutputShape(*g), (ir::Shape{1, 5, 1, 1}));
}

TEST(ImportOnnxTest, FlattenReshapeUnaryAndConstantForms) {
  ModelBuilder b({1, 2, 3, 4});
  b.Node("Flatten", {"x"}, "f");
  b.InitInt64("target", {0, 4, -1});
  b.Node("Reshape", {"f", "target"}, "r");
  b.Node("Relu", {"r"}, "relu");
  b.Node("Sigmoid", {"relu"}, "sig");
  b.Node("Identity", {"sig"}, "id");
  auto* c = b.Node("Constant", {}, "k");
  ModelBuilder::Ints(c, "value_ints", {1, 24});
  b.Node("Reshape", {"id", "k"}, "r2");
  auto* f = b.Node("Constant", {}, "half");
  ModelBuilder::Float(f, "value_float", 0.5f);
  b.Node("Mul", {"r2", "half"}, "y");
  b.Output("y");
  auto g = b.Import();
  ASSERT_TRUE(g.ok()) << g.status();
  std::vector<OpKind> ops;
  for (const auto& n : g->nodes()) ops.push_back(n.op);
  EXPECT_EQ(ops, (std::vector<OpKind>{OpKind::kFlatten, OpKind::kReshape,
                                      OpKind::kRelu, OpKind::kSigmoid,
                                      OpKind::kIdentity, OpKind::kReshape,
                                      OpKind::kMul}));
  EXPECT_EQ(g->value(g->nodes()[0].output).shape, (ir::Shape{1, 24}));
  EXPECT_EQ(g->value(g->nodes()[1].output).shape, (ir::Shape{1, 4, 6}));
  EXPECT_EQ(OutputShape(*g), (ir::Shape{1, 24}));
  EXPECT_THAT(ir::DumpGraph(*g), HasSubstr("Reshape(%f) {shape=[0,4,-1]}"));
}

TEST(ImportOnnxTest, OldStyleInitializerInputsAreWeights) {
  ModelBuilder b({1, 3});
  b.Init("W", {3, 2}, Iota(6));
  auto* in = b.graph()->add_input();  // weights listed as graph inputs too
  in->set_name("W");
  b.Node("MatMul", {"x", "W"}, "y");
  b.Output("y");
  auto g = b.Import();
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->inputs().size(), 1u);
}

// --- Rejections ------------------------------------------------------------

void ExpectError(const absl::StatusOr<ir::Graph>& g,
                 std::vector<std::string> parts) {
  ASSERT_FALSE(g.ok());
  for (const auto& p : parts) {
    EXPECT_THAT(std::string(g.status().message()), HasSubstr(p));
  }
}

TEST(ImportOnnxRejectTest, UnsupportedOpNamesTypeNodeAndList) {
  ModelBuilder b({1, 4});
  b.Node("Softmax", {"x"}, "y", "final_softmax");
  b.Output("y");
  auto g = b.Import();
  EXPECT_EQ(g.status().code(), absl::StatusCode::kUnimplemented);
  ExpectError(g, {"node 'final_softmax' (Softmax)", "'Softmax' is not supported",
                  "supported ops: Add, AveragePool, BatchNormalization, "
                  "Constant, Conv, Flatten, Gemm, GlobalAveragePool, "
                  "Identity, MatMul, Mul, Pow (exponent 2), Relu, Reshape, "
                  "Sigmoid, Sub"});
}

TEST(ImportOnnxRejectTest, ConvWithGroups) {
  ModelBuilder b({1, 2, 8, 8});
  b.Init("W", {2, 1, 3, 3}, Iota(18));
  auto* n = b.Node("Conv", {"x", "W"}, "y", "dw");
  ModelBuilder::Int(n, "group", 2);
  b.Output("y");
  ExpectError(b.Import(), {"node 'dw' (Conv)", "group 2 is not supported"});
}

TEST(ImportOnnxRejectTest, PowExponentThree) {
  ModelBuilder b({1, 4});
  b.Init("e", {}, {3.0f});
  b.Node("Pow", {"x", "e"}, "y", "cube");
  b.Output("y");
  ExpectError(b.Import(), {"node 'cube' (Pow)", "exponent 3 is not supported"});
  ModelBuilder v({1, 4});
  v.Node("Pow", {"x", "x"}, "y", "xx");
  v.Output("y");
  ExpectError(v.Import(), {"exponent must be a constant scalar"});
}

TEST(ImportOnnxRejectTest, UnsupportedAttributesAndModes) {
  {
    ModelBuilder b({1, 1, 8, 8});
    b.Init("W", {1, 1, 3, 3}, Iota(9));
    auto* n = b.Node("Conv", {"x", "W"}, "y");
    ModelBuilder::String(n, "auto_pad", "SAME_UPPER");
    b.Output("y");
    ExpectError(b.Import(), {"auto_pad SAME_UPPER is not supported"});
  }
  {
    ModelBuilder b({1, 1, 8, 8});
    auto* n = b.Node("AveragePool", {"x"}, "y");
    ModelBuilder::Ints(n, "kernel_shape", {3, 3});
    ModelBuilder::Int(n, "ceil_mode", 1);
    b.Output("y");
    ExpectError(b.Import(), {"ceil_mode 1 is not supported"});
  }
  {
    ModelBuilder b({1, 4});
    auto* n = b.Node("Relu", {"x"}, "y");
    ModelBuilder::Int(n, "mystery", 1);
    b.Output("y");
    ExpectError(b.Import(), {"attribute 'mystery' is not supported"});
  }
  {
    ModelBuilder b({1, 2});
    for (const char* p : {"s", "b", "m", "v"}) b.Init(p, {2}, {1, 1});
    auto* n = b.Node("BatchNormalization", {"x", "s", "b", "m", "v"}, "y");
    ModelBuilder::Int(n, "training_mode", 1);
    b.Output("y");
    ExpectError(b.Import(), {"training_mode 1 is not supported"});
  }
  {
    ModelBuilder b({1, 4});
    auto* n = b.Node("Relu", {"x"}, "y");
    n->set_domain("com.example");
    b.Output("y");
    ExpectError(b.Import(), {"domain 'com.example' is not supported"});
  }
  {
    ModelBuilder b({1, 4});
    auto* n = b.Node("Relu", {"x"}, "y");
    n->add_output("extra");
    b.Output("y");
    ExpectError(b.Import(), {"has 2 outputs"});
  }
}

TEST(ImportOnnxRejectTest, ComputedReshapeTarget) {
  ModelBuilder b({1, 4});
  b.Node("Relu", {"x"}, "shape_like");
  b.Node("Reshape", {"x", "shape_like"}, "y");
  b.Output("y");
  ExpectError(b.Import(), {"target shape must be a constant"});
}

TEST(ImportOnnxRejectTest, TruncatedAndGarbageBytes) {
  ModelBuilder b({1, 1, 28, 28});
  b.Init("W", {4, 1, 7, 7}, Iota(196));
  auto* n = b.Node("Conv", {"x", "W"}, "y");
  ModelBuilder::Ints(n, "strides", {3, 3});
  b.Output("y");
  const std::string bytes = b.Bytes();
  ASSERT_TRUE(ImportOnnx(bytes).ok());
  // Every prefix is rejected with an error (never a crash or a graph).
  for (size_t cut = 0; cut < bytes.size(); cut += 7) {
    auto g = ImportOnnx(std::string_view(bytes).substr(0, cut));
    EXPECT_FALSE(g.ok()) << "prefix of " << cut << " bytes imported";
  }
  ExpectError(ImportOnnx(std::string_view(bytes).substr(0, bytes.size() / 2)),
              {"do not parse as an ONNX ModelProto"});
  ExpectError(ImportOnnx("\xff\xff\xff\xff garbage"), {"ImportOnnx: "});
  ExpectError(ImportOnnx(""), {"no opset for the default ONNX domain"});
}

TEST(ImportOnnxRejectTest, MissingInitializer) {
  ModelBuilder b({1, 6});
  b.Init("W", {4, 6}, Iota(24));
  auto* n = b.Node("Gemm", {"x", "W", "fc.bias"}, "y", "fc");
  ModelBuilder::Int(n, "transB", 1);
  b.Output("y");
  ExpectError(b.Import(), {"node 'fc' (Gemm)", "input 2 'fc.bias' is not defined",
                           "missing weight"});
}

TEST(ImportOnnxRejectTest, BadTensorPayloads) {
  {
    ModelBuilder b({1, 6});
    b.Init("W", {4, 6}, Iota(23));  // one value short
    b.Node("MatMul", {"x", "W"}, "y");
    b.Output("y");
    ExpectError(b.Import(), {"tensor 'W'", "raw_data is 92 bytes, expected 96"});
  }
  {
    ModelBuilder b({1, 6});
    b.Init("W", {6, 4}, Iota(25), /*raw=*/false);
    b.Node("MatMul", {"x", "W"}, "y");
    b.Output("y");
    ExpectError(b.Import(), {"holds 25 values, expected 24"});
  }
  {
    ModelBuilder b({1, 6});
    auto* t = b.Init("W", {6, 4}, Iota(24));
    t->set_data_type(onnx::TensorProto::FLOAT16);
    b.Node("MatMul", {"x", "W"}, "y");
    b.Output("y");
    ExpectError(b.Import(), {"data type 10 is not supported"});
  }
  {
    ModelBuilder b({1, 6});
    auto* t = b.Init("W", {6, 4}, Iota(24));
    t->set_data_location(onnx::TensorProto::EXTERNAL);
    b.Node("MatMul", {"x", "W"}, "y");
    b.Output("y");
    ExpectError(b.Import(), {"external data is not supported"});
  }
  {
    ModelBuilder b({1, 6});
    auto* t = b.Init("W", {}, {});
    t->add_dims(int64_t{1} << 40);
    b.Node("MatMul", {"x", "W"}, "y");
    b.Output("y");
    ExpectError(b.Import(), {"tensor 'W'", "exceed"});
  }
}

TEST(ImportOnnxRejectTest, WrongInputShapes) {
  {
    ModelBuilder b({1, 784});
    b.Init("W", {10, 783}, Iota(7830));
    auto* n = b.Node("Gemm", {"x", "W"}, "y", "fc");
    ModelBuilder::Int(n, "transB", 1);
    b.Output("y");
    ExpectError(b.Import(), {"node 'fc' (Gemm)", "inner dimensions differ",
                             "[1,784]", "[10,783]"});
  }
  {
    ModelBuilder b({1, 784});
    auto* dim = b.graph()
                    ->mutable_input(0)
                    ->mutable_type()
                    ->mutable_tensor_type()
                    ->mutable_shape()
                    ->mutable_dim(0);
    dim->set_dim_param("batch");
    b.Node("Relu", {"x"}, "y");
    b.Output("y");
    ExpectError(b.Import(), {"dimension 0 is symbolic ('batch')"});
  }
  {
    ModelBuilder b({1, 0});
    b.Node("Relu", {"x"}, "y");
    b.Output("y");
    ExpectError(b.Import(), {"dimension 1 is 0"});
  }
  {
    ModelBuilder b({1, 4});
    b.graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()
        ->set_elem_type(onnx::TensorProto::INT64);
    b.Node("Relu", {"x"}, "y");
    b.Output("y");
    ExpectError(b.Import(), {"element type 7"});
  }
}

TEST(ImportOnnxRejectTest, GraphStructure) {
  {
    ModelBuilder b({1, 4}, /*opset=*/9);
    b.Node("Relu", {"x"}, "y");
    b.Output("y");
    ExpectError(b.Import(), {"opset 9 is not supported, expected 11 to 18"});
  }
  {
    ModelBuilder b({1, 4});
    b.Node("Relu", {"x"}, "y");
    b.Output("y");
    b.Output("x");
    ExpectError(b.Import(), {"2 outputs, expected exactly 1"});
  }
  {
    ModelBuilder b({1, 4});
    b.Node("Relu", {"x"}, "y");
    b.Output("z");
    ExpectError(b.Import(), {"graph output 'z' is not computed"});
  }
  {
    ModelBuilder b({1, 4});
    b.Node("Relu", {"x"}, "y");
    b.Node("Relu", {"y"}, "y");
    b.Output("y");
    ExpectError(b.Import(), {"output 'y' is already defined"});
  }
  {
    ModelBuilder b({1, 4});
    b.Node("Relu", {"later"}, "y");  // not topologically sorted
    b.Node("Relu", {"x"}, "later");
    b.Output("y");
    ExpectError(b.Import(), {"input 0 'later' is not defined"});
  }
  {
    ModelBuilder b({1, 4});
    auto* second = b.graph()->add_input();
    second->CopyFrom(b.graph()->input(0));
    second->set_name("x2");
    b.Node("Add", {"x", "x2"}, "y");
    b.Output("y");
    ExpectError(b.Import(), {"2 inputs that are not initializers"});
  }
}

// --- Hostile models (issue 7, finding 9) -----------------------------------
// Each model here was accepted before shape arithmetic was checked and
// bounded: with a wrong shape from signed overflow, a shape whose element
// count wrapped around to the input's, or one the reference executor would
// divide by zero or run for hours on. Each must now be an error naming the
// node (or the cap).

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

// x [1,1,4,4] -> Conv with a [1,1,kh,kw] weight and the given attributes.
absl::StatusOr<ir::Graph> ImportConv(
    int64_t kh, int64_t kw,
    std::vector<std::pair<std::string, std::vector<int64_t>>> attrs) {
  ModelBuilder b({1, 1, 4, 4});
  b.Init("W", {1, 1, kh, kw}, Iota(static_cast<int>(kh * kw)));
  auto* n = b.Node("Conv", {"x", "W"}, "y", "hostile_conv");
  for (const auto& [key, v] : attrs) ModelBuilder::Ints(n, key, v);
  b.Output("y");
  return b.Import();
}

TEST(ImportOnnxHostileTest, ConvPadsNearInt64MaxAreRejected) {
  // 4 + 2 * INT64_MAX wraps to 2: a 1x1 kernel "fits" and gives a 2x4 output.
  ExpectError(ImportConv(1, 1, {{"pads", {kInt64Max, 0, kInt64Max, 0}}}),
              {"node 'hostile_conv' (Conv)", "attribute pads", "[0, 65536]"});
  ExpectError(ImportConv(1, 1, {{"pads", {0, 0, 0, ir::kMaxWindow + 1}}}),
              {"node 'hostile_conv' (Conv)", "attribute pads"});
  // The cap itself is accepted (a wide, zero-padded border).
  auto g = ImportConv(1, 1, {{"pads", {0, 0, 0, ir::kMaxWindow}}});
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(OutputShape(*g), (ir::Shape{1, 1, 4, 4 + ir::kMaxWindow}));
}

TEST(ImportOnnxHostileTest, ConvStridesAndDilationsAreBounded) {
  // (3 - 1) * 2^62 overflows: the window "span" went negative.
  ExpectError(ImportConv(3, 3, {{"dilations", {int64_t{1} << 62, 1}}}),
              {"node 'hostile_conv' (Conv)", "attribute dilations"});
  ExpectError(ImportConv(1, 1, {{"strides", {kInt64Max, 1}}}),
              {"node 'hostile_conv' (Conv)", "attribute strides"});
  ExpectError(ImportConv(1, 1, {{"strides", {0, 1}}}),
              {"node 'hostile_conv' (Conv)", "attribute strides"});
}

TEST(ImportOnnxHostileTest, ReshapeTargetWhoseProductWrapsIsRejected) {
  // 5 * 5581 * 8681 * 49477 * 384773 = 2^62 + 1, so the product of this
  // target is 2^64 + 4: it wrapped to the input's 4 elements, passed import
  // and made the executor index a [5,5581,...] tensor holding 4 values.
  ModelBuilder b({1, 4});
  b.InitInt64("target", {5, 5581, 8681, 49477, 384773, 4});
  b.Node("Reshape", {"x", "target"}, "r", "wrapping_reshape");
  b.Node("Flatten", {"r"}, "y");
  b.Output("y");
  ExpectError(b.Import(), {"node 'wrapping_reshape' (Reshape)",
                           "more than 268435456 elements"});
}

TEST(ImportOnnxHostileTest, ReshapeTargetMustBeWholeNumbersInRange) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  // 4.7 was truncated to 4 (a different model than the file says); the
  // others were cast to int64 with undefined behaviour.
  for (float bad : {4.7f, nan, inf, -inf, 1e30f, -2.0f}) {
    SCOPED_TRACE(bad);
    ModelBuilder b({1, 4});
    b.Init("target", {1}, {bad});
    b.Node("Reshape", {"x", "target"}, "y", "float_reshape");
    b.Output("y");
    ExpectError(b.Import(), {"node 'float_reshape' (Reshape)",
                             "target shape value",
                             "is not a whole number in [-1, 268435456]"});
  }
  ModelBuilder ok({1, 4});
  ok.Init("target", {2}, {2.0f, -1.0f});  // a float target of whole numbers
  ok.Node("Reshape", {"x", "target"}, "y");
  ok.Output("y");
  auto g = ok.Import();
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(OutputShape(*g), (ir::Shape{2, 2}));
}

TEST(ImportOnnxHostileTest, NodeCountIsCapped) {
  auto chain = [](int nodes) {
    ModelBuilder b({1, 4});
    std::string prev = "x";
    for (int i = 0; i < nodes; ++i) {
      const std::string out = absl::StrCat("v", i);
      b.Node("Identity", {prev}, out, out);
      prev = out;
    }
    b.Output(prev);
    return b.Import();
  };
  auto at_cap = chain(kMaxOnnxNodes);
  ASSERT_TRUE(at_cap.ok()) << at_cap.status();
  auto over = chain(kMaxOnnxNodes + 1);
  EXPECT_EQ(over.status().code(), absl::StatusCode::kResourceExhausted);
  ExpectError(over, {"10001 nodes, limit 10000"});
}

TEST(ImportOnnxHostileTest, BroadcastOutputsAreBounded) {
  {
    // [2^14,1] + [1,2^15]: 2^29 elements from a 128 KB weight.
    ModelBuilder b({16384, 1});
    b.Init("row", {1, 32768}, std::vector<float>(32768, 1.0f));
    b.Node("Add", {"x", "row"}, "y", "blowup");
    b.Output("y");
    ExpectError(b.Import(), {"node 'blowup' (Add)", "[16384,32768]",
                             "at most 268435456 elements"});
  }
  {
    // Eight axes of 256: the element count 2^64 wrapped to 0 (now the
    // third Add, at 2^32, is past the cap).
    ModelBuilder b({256, 1, 1, 1, 1, 1, 1, 1});
    std::string prev = "x";
    for (int axis = 1; axis < 8; ++axis) {
      std::vector<int64_t> shape(8, 1);
      shape[axis] = 256;
      const std::string w = absl::StrCat("c", axis);
      b.Init(w, shape, std::vector<float>(256, 1.0f));
      const std::string out = absl::StrCat("a", axis);
      b.Node("Add", {prev, w}, out, out);
      prev = out;
    }
    b.Output(prev);
    ExpectError(b.Import(), {"node 'a3' (Add)", "at most 268435456 elements"});
  }
}

TEST(ImportOnnxHostileTest, EmptyOperandsAreRejected) {
  // A [1,1,0,3] kernel gave a [1,1,5,2] output from nothing.
  ExpectError(ImportConv(0, 3, {}),
              {"node 'hostile_conv' (Conv)", "input 1 ('W')", "[1,1,0,3]",
               "empty dimension"});
  // Averaging an empty plane divided by zero.
  ModelBuilder b({1, 4});
  b.Init("empty", {1, 1, 0, 2}, {});
  b.Node("GlobalAveragePool", {"empty"}, "y", "gap");
  b.Output("y");
  ExpectError(b.Import(), {"node 'gap' (GlobalAveragePool)", "empty dimension"});
}

TEST(ImportOnnxHostileTest, AveragePoolPadsMustBeSmallerThanKernel) {
  // Windows wholly in the padding averaged zero cells: 0 / 0.
  ModelBuilder b({1, 1, 4, 4});
  auto* n = b.Node("AveragePool", {"x"}, "y", "padded_pool");
  ModelBuilder::Ints(n, "kernel_shape", {2, 2});
  ModelBuilder::Ints(n, "pads", {2, 0, 0, 0});
  b.Output("y");
  ExpectError(b.Import(), {"node 'padded_pool' (AveragePool)",
                           "must be smaller than kernel_shape"});
}

TEST(ImportOnnxHostileTest, RankIsCapped) {
  {
    ModelBuilder b(std::vector<int64_t>(9, 1));
    b.Node("Relu", {"x"}, "y");
    b.Output("y");
    ExpectError(b.Import(), {"input 'x'", "9 dimensions, expected at most 8"});
  }
  {
    ModelBuilder b({1, 4});
    b.InitInt64("target", {1, 1, 1, 1, 1, 1, 1, 1, 4});
    b.Node("Reshape", {"x", "target"}, "y", "deep_reshape");
    b.Output("y");
    ExpectError(b.Import(), {"node 'deep_reshape' (Reshape)",
                             "9 dimensions, expected at most 8"});
  }
  {
    ModelBuilder b({1, 4});
    b.Init("w", std::vector<int64_t>(9, 1), {1.0f});
    b.Node("Add", {"x", "w"}, "y");
    b.Output("y");
    ExpectError(b.Import(), {"tensor 'w'", "9 dimensions, expected at most 8"});
  }
}

TEST(ImportOnnxHostileTest, WorkAndTotalSizeAreCapped) {
  {
    // A 4096x4096 input and a 64x64 kernel: 2^24 outputs of 2^12
    // multiply-adds each, about 2^36 in all.
    ModelBuilder b({1, 1, 4096, 4096});
    b.Init("W", {1, 1, 64, 64}, std::vector<float>(4096, 1.0f));
    b.Node("Conv", {"x", "W"}, "y", "slow_conv");
    b.Output("y");
    auto g = b.Import();
    EXPECT_EQ(g.status().code(), absl::StatusCode::kResourceExhausted);
    ExpectError(g, {"node 'slow_conv' (Conv)", "17179869184 multiply-adds"});
  }
  {
    // Three values of 2^28 elements: 3 * 2^28 > 2^29.
    ModelBuilder b({16384, 16384});
    b.Node("Relu", {"x"}, "r1", "r1");
    b.Node("Relu", {"r1"}, "r2", "r2");
    b.Output("r2");
    auto g = b.Import();
    EXPECT_EQ(g.status().code(), absl::StatusCode::kResourceExhausted);
    ExpectError(g, {"node 'r2' (Relu)", "more than 536870912 elements"});
  }
}

TEST(ImportOnnxHostileTest, InitializerCountIsCapped) {
  ModelBuilder b({1, 4});
  for (int i = 0; i <= kMaxOnnxInitializers; ++i) {
    b.Init(absl::StrCat("w", i), {}, {1.0f});
  }
  b.Node("Relu", {"x"}, "y");
  b.Output("y");
  auto g = b.Import();
  EXPECT_EQ(g.status().code(), absl::StatusCode::kResourceExhausted);
  ExpectError(g, {"100001 initializers, limit 100000"});
}

TEST(ImportOnnxHostileTest, ConstantAttributeTypeIsChecked) {
  // value_ints declared as a tensor: read as an empty list before.
  ModelBuilder b({1, 4});
  auto* c = b.Node("Constant", {}, "k", "bad_constant");
  ModelBuilder::Ints(c, "value_ints", {1, 4});
  c->mutable_attribute(0)->set_type(onnx::AttributeProto::TENSOR);
  b.Node("Reshape", {"x", "k"}, "y");
  b.Output("y");
  ExpectError(b.Import(), {"node 'bad_constant' (Constant)",
                           "attribute value_ints has type 4, expected 7"});
}

// The fuzz seeds of each class (fuzz/corpus/onnx_import/hostile_*).
TEST(ImportOnnxHostileTest, FuzzSeedsAreRejected) {
  const std::vector<HostileModel> models = HostileOnnxModels();
  EXPECT_GE(models.size(), 15u);
  for (const HostileModel& m : models) {
    SCOPED_TRACE(m.name);
    ExpectError(ImportOnnx(m.bytes), {m.error});
  }
}

TEST(ImportOnnxFileTest, MissingFile) {
  auto g = ImportOnnxFile("/nonexistent/model.onnx");
  EXPECT_EQ(g.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(g.status().message()),
              HasSubstr("/nonexistent/model.onnx"));
}

}  // namespace
}  // namespace blindfold::compiler
