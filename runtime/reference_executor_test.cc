// File: runtime/reference_executor_test.cc
// Each op of the reference executor against values worked out by hand, and
// its input validation.
#include "runtime/reference_executor.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace blindfold::runtime {
namespace {

using compiler::ir::Attribute;
using compiler::ir::Graph;
using compiler::ir::OpKind;
using compiler::ir::Shape;
using compiler::ir::Tensor;
using compiler::ir::ValueId;

// Runs a one-node graph op(x, constants...) on `x`.
Tensor RunOne(OpKind op, const Tensor& x, std::vector<Tensor> constants,
              std::map<std::string, Attribute> attrs = {}) {
  Graph g;
  std::vector<ValueId> ins = {g.AddInput("x", x.shape)};
  for (size_t i = 0; i < constants.size(); ++i) {
    ins.push_back(g.AddConstant(absl::StrCat("c", i), constants[i]));
  }
  g.AddOutput(g.AddNode(op, "n", ins, "y", std::move(attrs)));
  absl::Status s = compiler::ir::InferShapes(g);
  EXPECT_TRUE(s.ok()) << s;
  absl::StatusOr<Tensor> y = RunReference(g, x);
  EXPECT_TRUE(y.ok()) << y.status();
  return y.ok() ? *y : Tensor{};
}

TEST(ReferenceExecutorTest, Gemm) {
  Tensor x{{1, 3}, {1, 2, 3}};
  Tensor w{{2, 3}, {1, 0, -1, 2, 1, 0}};
  Tensor b{{2}, {10, 20}};
  Tensor y = RunOne(OpKind::kGemm, x, {w, b}, {{"transB", int64_t{1}},
                                                {"alpha", 2.0},
                                                {"beta", 0.5}});
  EXPECT_EQ(y.shape, (Shape{1, 2}));
  EXPECT_DOUBLE_EQ(y.data[0], 2 * (1 - 3) + 5);
  EXPECT_DOUBLE_EQ(y.data[1], 2 * (2 + 2) + 10);
  // transA: A is stored [K, M].
  Tensor xt{{3, 1}, {1, 2, 3}};
  Tensor wk{{3, 2}, {1, 2, 0, 1, -1, 0}};
  y = RunOne(OpKind::kGemm, xt, {wk}, {{"transA", int64_t{1}}});
  EXPECT_EQ(y.data, (std::vector<double>{-2, 4}));
}

TEST(ReferenceExecutorTest, MatMul) {
  Tensor x{{2, 2}, {1, 2, 3, 4}};
  Tensor w{{2, 3}, {1, 0, 1, 0, 1, 1}};
  Tensor y = RunOne(OpKind::kMatMul, x, {w});
  EXPECT_EQ(y.shape, (Shape{2, 3}));
  EXPECT_EQ(y.data, (std::vector<double>{1, 2, 3, 3, 4, 7}));
}

TEST(ReferenceExecutorTest, BroadcastingBinaryOps) {
  Tensor x{{1, 2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8}};
  Tensor per_channel{{2, 1, 1}, {10, 100}};
  EXPECT_EQ(RunOne(OpKind::kAdd, x, {per_channel}).data,
            (std::vector<double>{11, 12, 13, 14, 105, 106, 107, 108}));
  Tensor scalar{{}, {0.5}};
  EXPECT_EQ(RunOne(OpKind::kMul, x, {scalar}).data,
            (std::vector<double>{0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4}));
  Tensor row{{2}, {1, 2}};
  EXPECT_EQ(RunOne(OpKind::kSub, x, {row}).data,
            (std::vector<double>{0, 0, 2, 2, 4, 4, 6, 6}));
  // Broadcasting both ways: [2,1] - [1,3] -> [2,3].
  Tensor col{{2, 1}, {1, 2}};
  Tensor r3{{1, 3}, {1, 2, 3}};
  Tensor y = RunOne(OpKind::kSub, col, {r3});
  EXPECT_EQ(y.shape, (Shape{2, 3}));
  EXPECT_EQ(y.data, (std::vector<double>{0, -1, -2, 1, 0, -1}));
}

TEST(ReferenceExecutorTest, MulOfValueWithItselfSquares) {
  Graph g;
  ValueId x = g.AddInput("x", {1, 3});
  g.AddOutput(g.AddNode(OpKind::kMul, "sq", {x, x}, "y"));
  ASSERT_TRUE(compiler::ir::InferShapes(g).ok());
  auto y = RunReference(g, Tensor{{1, 3}, {-2, 0.5, 3}});
  ASSERT_TRUE(y.ok());
  EXPECT_EQ(y->data, (std::vector<double>{4, 0.25, 9}));
}

TEST(ReferenceExecutorTest, UnaryOps) {
  Tensor x{{1, 4}, {-2, -0.5, 0, 3}};
  EXPECT_EQ(RunOne(OpKind::kSquare, x, {}).data,
            (std::vector<double>{4, 0.25, 0, 9}));
  EXPECT_EQ(RunOne(OpKind::kRelu, x, {}).data,
            (std::vector<double>{0, 0, 0, 3}));
  EXPECT_EQ(RunOne(OpKind::kIdentity, x, {}).data, x.data);
  Tensor s = RunOne(OpKind::kSigmoid, x, {});
  EXPECT_DOUBLE_EQ(s.data[2], 0.5);
  EXPECT_DOUBLE_EQ(s.data[3], 1 / (1 + std::exp(-3.0)));
}

TEST(ReferenceExecutorTest, ConvWithStridePaddingBias) {
  // 1x1x3x3 input, one 2x2 filter of ones, pad 1, stride 2 -> 2x2 output.
  Tensor x{{1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}};
  Tensor w{{1, 1, 2, 2}, {1, 1, 1, 1}};
  Tensor b{{1}, {0.5}};
  Tensor y = RunOne(OpKind::kConv, x, {w, b},
                    {{"strides", std::vector<int64_t>{2, 2}},
                     {"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  EXPECT_EQ(y.shape, (Shape{1, 1, 2, 2}));
  // Windows: {1}, {2,3}, {4,7}, {5,6,8,9}.
  EXPECT_EQ(y.data, (std::vector<double>{1.5, 5.5, 11.5, 28.5}));
}

TEST(ReferenceExecutorTest, ConvChannelsAndDilation) {
  // 2 input channels, 2 output channels, 1x1 kernels: a channel mix.
  Tensor x{{1, 2, 1, 2}, {1, 2, 10, 20}};
  Tensor w{{2, 2, 1, 1}, {1, 1, 1, -1}};
  EXPECT_EQ(RunOne(OpKind::kConv, x, {w}).data,
            (std::vector<double>{11, 22, -9, -18}));
  // Dilation 2 on a 1x1x3x3 input with a 2x2 kernel picks the corners.
  Tensor x3{{1, 1, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}};
  Tensor w2{{1, 1, 2, 2}, {1, 10, 100, 1000}};
  EXPECT_EQ(RunOne(OpKind::kConv, x3, {w2},
                   {{"dilations", std::vector<int64_t>{2, 2}}})
                .data,
            (std::vector<double>{1 + 30 + 700 + 9000}));
}

TEST(ReferenceExecutorTest, AveragePoolPaddingModes) {
  Tensor x{{1, 1, 2, 2}, {1, 2, 3, 4}};
  std::map<std::string, Attribute> attrs = {
      {"kernel_shape", std::vector<int64_t>{2, 2}},
      {"pads", std::vector<int64_t>{1, 1, 0, 0}}};
  // Excluding padding: window (0,0) holds only x[0,0].
  Tensor y = RunOne(OpKind::kAveragePool, x, {}, attrs);
  EXPECT_EQ(y.shape, (Shape{1, 1, 2, 2}));
  EXPECT_EQ(y.data, (std::vector<double>{1, 1.5, 2, 2.5}));
  attrs["count_include_pad"] = int64_t{1};
  y = RunOne(OpKind::kAveragePool, x, {}, attrs);
  EXPECT_EQ(y.data, (std::vector<double>{0.25, 0.75, 1, 2.5}));
  Tensor x4{{1, 1, 2, 4}, {1, 2, 3, 4, 5, 6, 7, 8}};
  y = RunOne(OpKind::kAveragePool, x4, {},
             {{"kernel_shape", std::vector<int64_t>{2, 2}},
              {"strides", std::vector<int64_t>{2, 2}}});
  EXPECT_EQ(y.data, (std::vector<double>{3.5, 5.5}));
}

TEST(ReferenceExecutorTest, GlobalAveragePool) {
  Tensor x{{1, 2, 2, 2}, {1, 2, 3, 4, 10, 20, 30, 40}};
  Tensor y = RunOne(OpKind::kGlobalAveragePool, x, {});
  EXPECT_EQ(y.shape, (Shape{1, 2, 1, 1}));
  EXPECT_EQ(y.data, (std::vector<double>{2.5, 25}));
}

TEST(ReferenceExecutorTest, BatchNormalization) {
  Tensor x{{1, 2, 1, 2}, {1, 2, 3, 4}};
  Tensor scale{{2}, {2, 1}}, bias{{2}, {0, 1}}, mean{{2}, {1, 3}},
      var{{2}, {4, 1}};
  Tensor y = RunOne(OpKind::kBatchNormalization, x, {scale, bias, mean, var},
                    {{"epsilon", 0.0}});
  EXPECT_EQ(y.data, (std::vector<double>{0, 1, 1, 2}));
}

TEST(ReferenceExecutorTest, FlattenAndReshapeKeepOrder) {
  Tensor x{{1, 2, 1, 2}, {1, 2, 3, 4}};
  Tensor f = RunOne(OpKind::kFlatten, x, {});
  EXPECT_EQ(f.shape, (Shape{1, 4}));
  EXPECT_EQ(f.data, x.data);
  Tensor r = RunOne(OpKind::kReshape, x, {},
                    {{"shape", std::vector<int64_t>{2, -1}}});
  EXPECT_EQ(r.shape, (Shape{2, 2}));
  EXPECT_EQ(r.data, x.data);
}

TEST(ReferenceExecutorTest, RejectsWrongInput) {
  Graph g;
  ValueId x = g.AddInput("x", {1, 4});
  g.AddOutput(g.AddNode(OpKind::kRelu, "r", {x}, "y"));
  ASSERT_TRUE(compiler::ir::InferShapes(g).ok());
  auto y = RunReference(g, Tensor{{1, 5}, {1, 2, 3, 4, 5}});
  ASSERT_FALSE(y.ok());
  EXPECT_NE(y.status().message().find(
                "input has shape [1,5] and 5 values, expected shape [1,4] and "
                "4 values"),
            std::string::npos)
      << y.status();
  y = RunReference(g, Tensor{{1, 4}, {1, 2, 3}});
  EXPECT_FALSE(y.ok());
}

// The executor indexes with the shapes InferShapes stored. A graph whose
// shapes were changed after inference (or never inferred) read past the end
// of its input; now it is rejected before anything runs.
TEST(ReferenceExecutorTest, RejectsGraphWhoseShapesDoNotCheck) {
  Graph g;
  ValueId x = g.AddInput("x", {1, 4});
  ValueId r = g.AddNode(OpKind::kRelu, "r", {x}, "y");
  g.AddOutput(r);
  ASSERT_TRUE(compiler::ir::InferShapes(g).ok());
  g.mutable_value(r).shape = {1, 4000};
  auto y = RunReference(g, Tensor{{1, 4}, {1, 2, 3, 4}});
  ASSERT_FALSE(y.ok());
  EXPECT_NE(y.status().message().find(
                "RunReference: CheckShapes: node 'r' (Relu): output has shape "
                "[1,4000], expected [1,4]"),
            std::string::npos)
      << y.status();

  Graph never_inferred;
  ValueId in = never_inferred.AddInput("x", {1, 4});
  never_inferred.AddOutput(never_inferred.AddNode(OpKind::kRelu, "r", {in}, "y"));
  EXPECT_FALSE(RunReference(never_inferred, Tensor{{1, 4}, {1, 2, 3, 4}}).ok());
}

}  // namespace
}  // namespace blindfold::runtime
