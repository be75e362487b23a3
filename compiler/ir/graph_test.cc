// File: compiler/ir/graph_test.cc
// Shape inference of every op, its errors, the verifier, the text dump and
// the depth analysis.
#include "compiler/ir/graph.h"

#include <limits>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "compiler/ir/analysis.h"
#include "compiler/ir/checked_math.h"
#include "compiler/ir/dump.h"
#include "gtest/gtest.h"

namespace blindfold::compiler::ir {
namespace {

Tensor Filled(Shape shape, double v = 0.5) {
  Tensor t{shape, {}};
  t.data.assign(NumElements(shape), v);
  return t;
}

// Infers shapes of a one-node graph and returns its output shape or error.
absl::StatusOr<Shape> InferOne(OpKind op, Shape x, std::vector<Tensor> weights,
                               std::map<std::string, Attribute> attrs = {}) {
  Graph g;
  std::vector<ValueId> ins = {g.AddInput("x", std::move(x))};
  for (size_t i = 0; i < weights.size(); ++i) {
    ins.push_back(g.AddConstant(absl::StrCat("w", i), weights[i]));
  }
  ValueId y = g.AddNode(op, "n", ins, "y", std::move(attrs));
  g.AddOutput(y);
  absl::Status s = InferShapes(g);
  if (!s.ok()) return s;
  return g.value(y).shape;
}

TEST(ShapeInferenceTest, GemmAndMatMul) {
  EXPECT_EQ(*InferOne(OpKind::kGemm, {1, 784},
                      {Filled({10, 784}), Filled({10})},
                      {{"transB", int64_t{1}}}),
            (Shape{1, 10}));
  EXPECT_EQ(*InferOne(OpKind::kGemm, {3, 4}, {Filled({4, 5})}),
            (Shape{3, 5}));
  EXPECT_EQ(*InferOne(OpKind::kGemm, {4, 3}, {Filled({4, 5})},
                      {{"transA", int64_t{1}}}),
            (Shape{3, 5}));
  EXPECT_EQ(*InferOne(OpKind::kMatMul, {2, 4}, {Filled({4, 6})}),
            (Shape{2, 6}));
  auto bad = InferOne(OpKind::kGemm, {1, 784}, {Filled({10, 783})},
                      {{"transB", int64_t{1}}});
  EXPECT_NE(bad.status().message().find(
                "InferShapes: node 'n' (Gemm): inner dimensions differ"),
            std::string::npos)
      << bad.status();
  bad = InferOne(OpKind::kGemm, {1, 4}, {Filled({4, 5}), Filled({3})});
  EXPECT_NE(bad.status().message().find("C has shape [3]"), std::string::npos)
      << bad.status();
  bad = InferOne(OpKind::kMatMul, {2, 3, 4}, {Filled({4, 6})});
  EXPECT_NE(bad.status().message().find("expected rank 2"), std::string::npos);
}

TEST(ShapeInferenceTest, WeightsMustBeConstant) {
  Graph g;
  ValueId x = g.AddInput("x", {1, 4});
  ValueId y = g.AddNode(OpKind::kGemm, "g", {x, x}, "y");
  g.AddOutput(y);
  absl::Status s = InferShapes(g);
  EXPECT_NE(s.message().find("input 1 ('x') must be a constant weight"),
            std::string::npos)
      << s;
}

TEST(ShapeInferenceTest, Broadcasting) {
  EXPECT_EQ(*InferOne(OpKind::kAdd, {1, 4, 3, 3}, {Filled({4, 1, 1})}),
            (Shape{1, 4, 3, 3}));
  EXPECT_EQ(*InferOne(OpKind::kMul, {1, 10}, {Filled({})}), (Shape{1, 10}));
  EXPECT_EQ(*InferOne(OpKind::kSub, {2, 1}, {Filled({1, 3})}),
            (Shape{2, 3}));
  auto bad = InferOne(OpKind::kAdd, {1, 4}, {Filled({3})});
  EXPECT_NE(bad.status().message().find("shapes [1,4] and [3] do not"),
            std::string::npos)
      << bad.status();
}

TEST(ShapeInferenceTest, ElementwiseUnary) {
  for (OpKind op : {OpKind::kSquare, OpKind::kRelu, OpKind::kSigmoid,
                    OpKind::kIdentity}) {
    EXPECT_EQ(*InferOne(op, {1, 5, 2}, {}), (Shape{1, 5, 2}));
  }
  EXPECT_FALSE(InferOne(OpKind::kRelu, {1, 5}, {Filled({1})}).ok());
}

TEST(ShapeInferenceTest, Conv) {
  // TenSEAL's 7x7 stride-3 conv: 28 -> 8.
  EXPECT_EQ(*InferOne(OpKind::kConv, {1, 1, 28, 28},
                      {Filled({4, 1, 7, 7}), Filled({4})},
                      {{"strides", std::vector<int64_t>{3, 3}}}),
            (Shape{1, 4, 8, 8}));
  // 5x5 stride 2 pad 1: (28 + 2 - 5) / 2 + 1 = 13.
  EXPECT_EQ(*InferOne(OpKind::kConv, {1, 1, 28, 28}, {Filled({5, 1, 5, 5})},
                      {{"strides", std::vector<int64_t>{2, 2}},
                       {"pads", std::vector<int64_t>{1, 1, 1, 1}}}),
            (Shape{1, 5, 13, 13}));
  EXPECT_EQ(*InferOne(OpKind::kConv, {1, 2, 9, 9}, {Filled({3, 2, 3, 3})},
                      {{"dilations", std::vector<int64_t>{2, 2}}}),
            (Shape{1, 3, 5, 5}));
  auto bad = InferOne(OpKind::kConv, {1, 2, 8, 8}, {Filled({3, 1, 3, 3})});
  EXPECT_NE(bad.status().message().find("expects 1 input channels"),
            std::string::npos)
      << bad.status();
  bad = InferOne(OpKind::kConv, {1, 1, 8, 8}, {Filled({3, 1, 3, 3})},
                 {{"group", int64_t{2}}});
  EXPECT_NE(bad.status().message().find("group is 2"), std::string::npos);
  bad = InferOne(OpKind::kConv, {1, 1, 2, 2}, {Filled({3, 1, 3, 3})});
  EXPECT_NE(bad.status().message().find("larger than padded input"),
            std::string::npos);
  bad = InferOne(OpKind::kConv, {1, 1, 8, 8}, {Filled({3, 1, 3, 3})},
                 {{"strides", std::vector<int64_t>{0, 1}}});
  EXPECT_NE(bad.status().message().find("strides"), std::string::npos);
  bad = InferOne(OpKind::kConv, {1, 1, 8}, {Filled({3, 1, 3})});
  EXPECT_NE(bad.status().message().find("expected rank 4"), std::string::npos);
}

TEST(ShapeInferenceTest, Pools) {
  EXPECT_EQ(*InferOne(OpKind::kAveragePool, {1, 16, 28, 28}, {},
                      {{"kernel_shape", std::vector<int64_t>{2, 2}},
                       {"strides", std::vector<int64_t>{2, 2}}}),
            (Shape{1, 16, 14, 14}));
  EXPECT_EQ(*InferOne(OpKind::kAveragePool, {1, 1, 5, 5}, {},
                      {{"kernel_shape", std::vector<int64_t>{3, 3}},
                       {"pads", std::vector<int64_t>{1, 1, 1, 1}}}),
            (Shape{1, 1, 5, 5}));
  EXPECT_FALSE(InferOne(OpKind::kAveragePool, {1, 1, 5, 5}, {}).ok());
  EXPECT_EQ(*InferOne(OpKind::kGlobalAveragePool, {2, 8, 7, 7}, {}),
            (Shape{2, 8, 1, 1}));
}

TEST(ShapeInferenceTest, BatchNormalization) {
  EXPECT_EQ(*InferOne(OpKind::kBatchNormalization, {1, 3, 4, 4},
                      {Filled({3}), Filled({3}), Filled({3}), Filled({3})}),
            (Shape{1, 3, 4, 4}));
  auto bad = InferOne(OpKind::kBatchNormalization, {1, 3},
                      {Filled({3}), Filled({3}), Filled({4}), Filled({3})});
  EXPECT_NE(bad.status().message().find("input 3 has shape [4], expected [3]"),
            std::string::npos)
      << bad.status();
}

TEST(ShapeInferenceTest, FlattenAndReshape) {
  EXPECT_EQ(*InferOne(OpKind::kFlatten, {1, 4, 8, 8}, {}), (Shape{1, 256}));
  EXPECT_EQ(*InferOne(OpKind::kFlatten, {2, 3, 4}, {}, {{"axis", int64_t{0}}}),
            (Shape{1, 24}));
  EXPECT_EQ(*InferOne(OpKind::kFlatten, {2, 3, 4}, {}, {{"axis", int64_t{-1}}}),
            (Shape{6, 4}));
  EXPECT_FALSE(InferOne(OpKind::kFlatten, {2, 3}, {}, {{"axis", int64_t{3}}}).ok());
  EXPECT_EQ(*InferOne(OpKind::kReshape, {1, 4, 8, 8}, {},
                      {{"shape", std::vector<int64_t>{0, -1}}}),
            (Shape{1, 256}));
  EXPECT_EQ(*InferOne(OpKind::kReshape, {1, 784}, {},
                      {{"shape", std::vector<int64_t>{1, 1, 28, 28}}}),
            (Shape{1, 1, 28, 28}));
  auto bad = InferOne(OpKind::kReshape, {1, 784}, {},
                      {{"shape", std::vector<int64_t>{1, 100}}});
  EXPECT_NE(bad.status().message().find(
                "cannot reshape [1,784] (784 elements) to [1,100]"),
            std::string::npos)
      << bad.status();
  bad = InferOne(OpKind::kReshape, {1, 784}, {},
                 {{"shape", std::vector<int64_t>{-1, -1}}});
  EXPECT_NE(bad.status().message().find("two -1"), std::string::npos);
  bad = InferOne(OpKind::kReshape, {1, 784}, {},
                 {{"shape", std::vector<int64_t>{-1, 5}}});
  EXPECT_FALSE(bad.ok());
}

TEST(CheckedMathTest, OverflowIsReported) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(CheckedAdd(kMax - 1, 1), kMax);
  EXPECT_EQ(CheckedAdd(kMax, 1), std::nullopt);
  EXPECT_EQ(CheckedMul(int64_t{1} << 31, int64_t{1} << 31), int64_t{1} << 62);
  EXPECT_EQ(CheckedMul(int64_t{1} << 32, int64_t{1} << 31), std::nullopt);
  EXPECT_EQ(BoundedMul(3, 4, 12), 12);
  EXPECT_EQ(BoundedMul(3, 5, 12), std::nullopt);
  EXPECT_EQ(BoundedMul(-3, -4, 100), std::nullopt);
  EXPECT_EQ(BoundedAdd(5, 7, 12), 12);
  EXPECT_EQ(BoundedAdd(5, 8, 12), std::nullopt);
  EXPECT_EQ(CheckedNumElements({2, 3, 4}), 24);
  EXPECT_EQ(CheckedNumElements({}), 1);
  EXPECT_EQ(CheckedNumElements({2, -3}), std::nullopt);
  EXPECT_EQ(CheckedNumElements({kMaxElements, 2}), std::nullopt);
  // 2^32 * 2^32 wraps to 0 unchecked.
  EXPECT_EQ(CheckedNumElements({int64_t{1} << 32, int64_t{1} << 32}),
            std::nullopt);
}

TEST(ShapeInferenceTest, BoundsOnHandBuiltGraphs) {
  // A graph input past the element cap (the importer rejects it earlier).
  auto big = InferOne(OpKind::kRelu, {int64_t{1} << 32, int64_t{1} << 32}, {});
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("InferShapes: value 'x'"),
            std::string::npos)
      << big.status();
  // Window attributes past kMaxWindow.
  auto pool = InferOne(OpKind::kAveragePool, {1, 1, 4, 4}, {},
                       {{"kernel_shape", std::vector<int64_t>{2, 2}},
                        {"strides", std::vector<int64_t>{1, kMaxWindow + 1}}});
  ASSERT_FALSE(pool.ok());
  EXPECT_NE(pool.status().message().find("attribute strides"),
            std::string::npos)
      << pool.status();
  // Reshape to a target whose product wraps to the input's element count.
  auto wrap = InferOne(OpKind::kReshape, {1, 4}, {},
                       {{"shape", std::vector<int64_t>{int64_t{1} << 62, 4, 1}}});
  ASSERT_FALSE(wrap.ok());
  EXPECT_NE(wrap.status().message().find("node 'n' (Reshape)"),
            std::string::npos)
      << wrap.status();
}

TEST(CheckShapesTest, AcceptsInferredAndRejectsAlteredShapes) {
  Graph g;
  ValueId x = g.AddInput("x", {2, 3});
  ValueId f = g.AddNode(OpKind::kFlatten, "f", {x}, "y");
  g.AddOutput(f);
  ASSERT_TRUE(InferShapes(g).ok());
  EXPECT_TRUE(CheckShapes(g).ok());
  g.mutable_value(f).shape = {3, 2};
  absl::Status s = CheckShapes(g);
  EXPECT_NE(s.message().find("CheckShapes: node 'f' (Flatten): output has "
                             "shape [3,2], expected [2,3]"),
            std::string::npos)
      << s;
}

TEST(VerifyTest, RejectsMalformedGraphs) {
  Graph empty;
  EXPECT_NE(Verify(empty).message().find("no input"), std::string::npos);
  Graph no_output;
  no_output.AddInput("x", {1});
  EXPECT_NE(Verify(no_output).message().find("no output"), std::string::npos);
  Graph bad_out;
  bad_out.AddOutput(bad_out.AddInput("x", {1}));
  bad_out.AddOutput(7);
  EXPECT_NE(Verify(bad_out).message().find("output 7 is never computed"),
            std::string::npos);
  Graph bad_const;
  ValueId x = bad_const.AddInput("x", {2});
  Tensor t{{3}, {1, 2}};
  ValueId c = bad_const.AddConstant("c", t);
  bad_const.AddOutput(bad_const.AddNode(OpKind::kAdd, "a", {x, c}, "y"));
  EXPECT_NE(Verify(bad_const).message().find("constant 'c' has 2 values"),
            std::string::npos);
}

Graph SmallMlp() {
  Graph g;
  g.name = "tiny";
  ValueId x = g.AddInput("x", {1, 1, 2, 2});
  ValueId mean = g.AddConstant("mean", Tensor{{}, {0.25}});
  ValueId w = g.AddConstant("w", Tensor{{3, 4}, std::vector<double>(12, 0.5)});
  ValueId b = g.AddConstant("b", Tensor{{3}, {1, 2, 3}});
  ValueId a = g.AddConstant("a", Tensor{{}, {2}});
  ValueId v = g.AddNode(OpKind::kSub, "norm", {x, mean}, "centred");
  v = g.AddNode(OpKind::kFlatten, "flat", {v}, "flat", {{"axis", int64_t{1}}});
  v = g.AddNode(OpKind::kGemm, "fc", {v, w, b}, "fc",
                {{"transB", int64_t{1}}});
  ValueId scaled = g.AddNode(OpKind::kMul, "scale", {a, v}, "scaled");
  v = g.AddNode(OpKind::kMul, "sq", {scaled, v}, "act");
  g.AddOutput(v);
  return g;
}

TEST(DumpTest, Golden) {
  Graph g = SmallMlp();
  ASSERT_TRUE(InferShapes(g).ok());
  EXPECT_EQ(DumpGraph(g),
            "graph tiny\n"
            "input %x [1,1,2,2]\n"
            "const %mean [] = 0.25\n"
            "const %w [3,4] (12 values in [0.5, 0.5])\n"
            "const %b [3] (3 values in [1, 3])\n"
            "const %a [] = 2\n"
            "%centred [1,1,2,2] = Sub(%x, %mean) name=norm\n"
            "%flat [1,4] = Flatten(%centred) {axis=1} name=flat\n"
            "%fc [1,3] = Gemm(%flat, %w, %b) {transB=1} name=fc\n"
            "%scaled [1,3] = Mul(%a, %fc) name=scale\n"
            "%act [1,3] = Mul(%scaled, %fc) name=sq\n"
            "output %act [1,3]\n");
  EXPECT_EQ(CountWeights(g), 1 + 12 + 3 + 1);
}

TEST(DepthTest, FusesPlaintextRunsAndCountsProducts) {
  Graph g = SmallMlp();
  ASSERT_TRUE(InferShapes(g).ok());
  DepthReport d = AnalyzeDepth(g);
  // Gemm (1 level; the scalar Mul fuses into it), then the product: 2.
  EXPECT_EQ(d.activation_depth, 1);
  EXPECT_EQ(d.multiplicative_depth, 2);
  EXPECT_TRUE(d.non_polynomial_op.empty());
}

TEST(DepthTest, ChainOfLayers) {
  // x -> Conv -> Square -> AvgPool -> Conv -> x*x -> Flatten -> Gemm.
  Graph g;
  ValueId v = g.AddInput("x", {1, 1, 8, 8});
  ValueId w1 = g.AddConstant("w1", Tensor{{2, 1, 3, 3}, std::vector<double>(18, 1)});
  ValueId w2 = g.AddConstant("w2", Tensor{{2, 2, 1, 1}, std::vector<double>(4, 1)});
  ValueId w3 = g.AddConstant("w3", Tensor{{18, 3}, std::vector<double>(54, 1)});
  v = g.AddNode(OpKind::kConv, "c1", {v, w1}, "c1");
  v = g.AddNode(OpKind::kSquare, "s1", {v}, "s1");
  v = g.AddNode(OpKind::kAveragePool, "p", {v}, "p",
                {{"kernel_shape", std::vector<int64_t>{2, 2}},
                 {"strides", std::vector<int64_t>{2, 2}}});
  v = g.AddNode(OpKind::kConv, "c2", {v, w2}, "c2");
  v = g.AddNode(OpKind::kMul, "s2", {v, v}, "s2");
  v = g.AddNode(OpKind::kFlatten, "f", {v}, "f");
  v = g.AddNode(OpKind::kGemm, "fc", {v, w3}, "fc");
  g.AddOutput(v);
  ASSERT_TRUE(InferShapes(g).ok());
  DepthReport d = AnalyzeDepth(g);
  EXPECT_EQ(d.activation_depth, 2);
  EXPECT_EQ(d.multiplicative_depth, 5);  // c1, s1, p+c2, s2, fc
}

TEST(DepthTest, NonPolynomialOpHasNoDepth) {
  Graph g;
  ValueId x = g.AddInput("x", {1, 4});
  g.AddOutput(g.AddNode(OpKind::kRelu, "r", {x}, "y"));
  DepthReport d = AnalyzeDepth(g);
  EXPECT_FALSE(d.activation_depth.has_value());
  EXPECT_FALSE(d.multiplicative_depth.has_value());
  EXPECT_EQ(d.non_polynomial_op, "Relu");
}

}  // namespace
}  // namespace blindfold::compiler::ir

namespace blindfold::compiler::ir {
namespace {

// Typed attribute reads cannot silently fall back on a verified graph: a
// wrong type is refused by InferShapes, naming the attribute.
TEST(ShapeInferenceTest, AttributeTypesAreChecked) {
  for (auto [key, value] : std::vector<std::pair<std::string, Attribute>>{
           {"transB", Attribute(1.0)}, {"alpha", Attribute(int64_t{2})},
           {"beta", Attribute(std::vector<int64_t>{1})}}) {
    Graph g;
    ValueId x = g.AddInput("x", {1, 4});
    Tensor w{{3, 4}, std::vector<double>(12, 0.5)};
    ValueId y = g.AddNode(OpKind::kGemm, "fc", {x, g.AddConstant("w", w)}, "y",
                          {{key, value}});
    g.AddOutput(y);
    const absl::Status s = InferShapes(g);
    ASSERT_FALSE(s.ok()) << key;
    EXPECT_NE(s.message().find("attribute " + key), std::string::npos) << s;
  }
}

}  // namespace
}  // namespace blindfold::compiler::ir
