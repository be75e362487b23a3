// File: tests/lower_test.cc
// The affine-polynomial lowering (compiler/lower) against the float64
// reference executor (runtime/reference_executor.h): on every shipped
// polynomial model, on test images, the lowered program computes the same
// logits to 1e-9 and has the manifest's multiplicative depth; generated
// graphs cover other kernel sizes, strides, paddings, widths, MatMul+Add,
// convolutions without bias followed by BatchNorm, GlobalAveragePool,
// general quadratics, products of different values and broadcasting.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>

#include "circuits/slot_backend.h"
#include "compiler/lower/lower.h"
#include "compiler/lower/pack.h"
#include "compiler/onnx/importer.h"
#include "data/fashion_mnist.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "runtime/reference_executor.h"

namespace blindfold {
namespace {

namespace ir = compiler::ir;
using compiler::Lower;
using compiler::Program;
using ir::OpKind;
using ir::Shape;
using ir::Tensor;
using ir::ValueId;

// Max |a - b| / (1 + |b|) over the two vectors.
double MaxRelError(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double e = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    e = std::max(e, std::abs(a[i] - b[i]) / (1 + std::abs(b[i])));
  }
  return e;
}

void ExpectSameAsReference(const ir::Graph& g, const Program& p, uint32_t seed,
                           int trials = 3) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  const Shape& shape = g.value(g.inputs()[0]).shape;
  for (int t = 0; t < trials; ++t) {
    Tensor x{shape, std::vector<double>(ir::NumElements(shape))};
    for (double& v : x.data) v = u(rng);
    auto want = runtime::RunReference(g, x);
    ASSERT_TRUE(want.ok()) << want.status();
    auto got = compiler::EvaluatePlain(p, x.data);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_LT(MaxRelError(*got, want->data), 1e-10) << compiler::DumpProgram(p);
  }
}

Tensor Random(Shape shape, std::mt19937& rng, double scale = 0.5) {
  std::normal_distribution<double> n(0, scale);
  Tensor t{shape, std::vector<double>(ir::NumElements(shape))};
  for (double& v : t.data) v = n(rng);
  return t;
}

ValueId Const(ir::Graph& g, const std::string& name, Tensor t) {
  return g.AddConstant(name, std::move(t));
}

// The latency-mode plan run on exact slot vectors (rotations included)
// computes what the unpacked program computes: every slot holds the output
// element its layout names (tiled: slot mod period), to 1e-9.
void ExpectPlanOnSlotsMatchesProgram(circuits::SlotBackend& backend, const runtime::Plan& plan,
                                     const Program& program, const std::vector<double>& x,
                                     const std::string& what) {
  auto want = compiler::EvaluatePlain(program, x);
  ASSERT_TRUE(want.ok());
  const auto y = runtime::ExecutePlan(
      backend, plan,
      circuits::Tile(runtime::LaidOut(x, plan.terms[0].layout, plan.terms[0].period),
                     plan.terms[0].period, plan.slots));
  for (int64_t j = 0; j < plan.slots; ++j) {
    const int64_t at = j % plan.output.period;
    const int64_t r = plan.output.layout.empty() ? (at < plan.output.dim ? at : -1)
                                                 : plan.output.layout[at];
    const double w = r >= 0 ? (*want)[r] : 0.0;
    ASSERT_NEAR(y[j], w, 1e-9 * (1 + std::abs(w))) << "slot " << j << ", " << what;
  }
}

// --- shipped models ------------------------------------------------------

class ShippedModelLowerTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ShippedModelLowerTest, MatchesReferenceOnTestImagesWithManifestDepth) {
  const std::string dir =
      std::string(BLINDFOLD_SOURCE_DIR) + "/models/" + GetParam() + "/";
  auto g = compiler::ImportOnnxFile(dir + GetParam() + ".onnx");
  ASSERT_TRUE(g.ok()) << g.status();
  auto p = Lower(*g);
  ASSERT_TRUE(p.ok()) << p.status();
  std::ifstream in(dir + "manifest.json");
  const auto manifest = nlohmann::json::parse(in, nullptr, false);
  ASSERT_FALSE(manifest.is_discarded());
  EXPECT_EQ(p->depth(), manifest["multiplicative_depth"].get<int>())
      << compiler::DumpProgram(*p);
  auto test = data::LoadFashionMnist(std::string(data::kDefaultFashionMnistDir),
                                     data::Split::kTest);
  ASSERT_TRUE(test.ok()) << test.status();
  const Shape shape = g->value(g->inputs()[0]).shape;
  for (int i = 0; i < 40; ++i) {
    const auto x = test->Preprocessed(i);
    auto want = runtime::RunReference(*g, Tensor{shape, x});
    ASSERT_TRUE(want.ok()) << want.status();
    auto got = compiler::EvaluatePlain(*p, x);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_LT(MaxRelError(*got, want->data), 1e-9) << "image " << i;
  }
}

// The latency-mode plan run on exact slot vectors (rotations included)
// computes what the unpacked program computes, in every slot of each period.
TEST_P(ShippedModelLowerTest, PackedPlanOnSlotVectorsMatchesProgram) {
  const std::string dir =
      std::string(BLINDFOLD_SOURCE_DIR) + "/models/" + GetParam() + "/";
  auto g = compiler::ImportOnnxFile(dir + GetParam() + ".onnx");
  ASSERT_TRUE(g.ok()) << g.status();
  auto p = Lower(*g);
  ASSERT_TRUE(p.ok()) << p.status();
  auto test = data::LoadFashionMnist(std::string(data::kDefaultFashionMnistDir),
                                     data::Split::kTest);
  ASSERT_TRUE(test.ok()) << test.status();
  for (auto packing : {compiler::InputPacking::kPlain, compiler::InputPacking::kIm2col,
                       compiler::InputPacking::kAlignedCopies}) {
  const char* gather = compiler::InputPackingName(packing);
  auto plan = compiler::PackLatency(*p, 1 << 15, {}, packing);
  if (packing != compiler::InputPacking::kPlain && !plan.ok()) {
    // A dense first layer has no grouped reader: refused by name.
    EXPECT_NE(std::string(plan.status().message()).find(gather), std::string::npos);
    continue;
  }
  ASSERT_TRUE(plan.ok()) << plan.status();
  for (int i = 0; i < 2; ++i) {
    const auto x = test->Preprocessed(i);
    circuits::SlotBackend backend(plan->slots);
    ExpectPlanOnSlotsMatchesProgram(backend, *plan, *p, x, gather);
    EXPECT_EQ(backend.rotations, plan->RotationCount());
    EXPECT_EQ(backend.hoisted_rotations, plan->HoistedRotationCount());
    EXPECT_EQ(backend.ciphertext_products, plan->CiphertextProductCount());
  }
  std::printf("%s (%s input): slots %lld, depth %d, rotations %lld + %lld hoisted, keys %zu, "
              "plaintext products %lld, ciphertext products %lld\n",
              GetParam().c_str(), gather,
              static_cast<long long>(plan->slots), plan->depth,
              static_cast<long long>(plan->RotationCount()),
              static_cast<long long>(plan->HoistedRotationCount()),
              plan->Rotations().size(),
              static_cast<long long>(plan->PlainProductCount()),
              static_cast<long long>(plan->CiphertextProductCount()));
  }
}

INSTANTIATE_TEST_SUITE_P(Polynomial, ShippedModelLowerTest,
                         ::testing::Values("logreg", "mlp", "cnn-small", "cnn",
                                           "cnn-deep"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& c : s) c = c == '-' ? '_' : c;
                           return s;
                         });

TEST(LowerTest, LearnedActivationCostsOneProductAndFoldsIntoLinearMaps) {
  const std::string dir = std::string(BLINDFOLD_SOURCE_DIR) + "/models/mlp/";
  auto g = compiler::ImportOnnxFile(dir + "mlp.onnx");
  ASSERT_TRUE(g.ok()) << g.status();
  auto p = Lower(*g);
  ASSERT_TRUE(p.ok()) << p.status();
  // Normalize+Gemm+BatchNorm+(x + b/2a) form one map, squared once; a, the
  // constant and the second Gemm form the output map.
  ASSERT_EQ(p->terms.size(), 2u) << compiler::DumpProgram(*p);
  EXPECT_EQ(p->terms[1].kind, compiler::Term::Kind::kSquare);
  EXPECT_EQ(p->terms[1].dim, 128);
  EXPECT_EQ(p->output.parts.size(), 1u);
  EXPECT_EQ(p->output.parts.count(1), 1u);
}

// Relu replaced by polynomials fitted on training images: the approximated
// program stays within 1 percentage point of the real model's accuracy on
// test images it never saw.
TEST(LowerTest, ReluApproximationKeepsAccuracyWithinOnePoint) {
  const std::string dir = std::string(BLINDFOLD_SOURCE_DIR) + "/models/mlp-relu/";
  auto g = compiler::ImportOnnxFile(dir + "mlp-relu.onnx");
  ASSERT_TRUE(g.ok()) << g.status();
  auto train = data::LoadFashionMnist(std::string(data::kDefaultFashionMnistDir),
                                      data::Split::kTrain);
  auto test = data::LoadFashionMnist(std::string(data::kDefaultFashionMnistDir),
                                     data::Split::kTest);
  ASSERT_TRUE(train.ok() && test.ok());
  std::vector<std::vector<double>> cal;
  for (int i = 0; i < 256; ++i) cal.push_back(train->Preprocessed(i));
  const int images = 2000;
  for (int degree : {4, 8}) {
    compiler::LowerOptions o;
    o.calibration = &cal;
    o.activation_degree = degree;
    auto p = Lower(*g, o);
    ASSERT_TRUE(p.ok()) << p.status();
    int ref_correct = 0, approx_correct = 0, agree = 0;
    const Shape shape = g->value(g->inputs()[0]).shape;
    for (int i = 0; i < images; ++i) {
      const auto x = test->Preprocessed(i);
      auto want = runtime::RunReference(*g, Tensor{shape, x});
      auto got = compiler::EvaluatePlain(*p, x);
      ASSERT_TRUE(want.ok() && got.ok());
      const int a = std::max_element(want->data.begin(), want->data.end()) - want->data.begin();
      const int b = std::max_element(got->begin(), got->end()) - got->begin();
      ref_correct += a == test->labels[i];
      approx_correct += b == test->labels[i];
      agree += a == b;
    }
    std::printf("mlp-relu degree %d: depth %d, accuracy %.2f %% (model %.2f %%), "
                "agreement %.2f %%\n", degree, p->depth(), 100.0 * approx_correct / images,
                100.0 * ref_correct / images, 100.0 * agree / images);
    EXPECT_GE(approx_correct, ref_correct - images / 100) << "degree " << degree;
  }
}

TEST(LowerTest, ReluWithoutCalibrationIsRefusedNamingTheNode) {
  const std::string dir = std::string(BLINDFOLD_SOURCE_DIR) + "/models/mlp-relu/";
  auto g = compiler::ImportOnnxFile(dir + "mlp-relu.onnx");
  ASSERT_TRUE(g.ok()) << g.status();
  auto p = Lower(*g);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("(Relu): not a polynomial; it needs calibration"),
            std::string::npos)
      << p.status();
}

// --- generated graphs ----------------------------------------------------

TEST(LowerTest, ConvolutionsOfOtherShapesWithoutBiasThenBatchNorm) {
  std::mt19937 rng(7);
  struct Case {
    int c_in, h, w, c_out, kh, kw, stride, pad, dilation;
  };
  for (const Case& c : {Case{1, 11, 9, 3, 3, 3, 1, 1, 1}, Case{2, 10, 10, 4, 4, 2, 2, 0, 1},
                        Case{3, 12, 7, 2, 3, 3, 3, 2, 1}, Case{1, 13, 13, 3, 3, 3, 1, 0, 2}}) {
    ir::Graph g;
    ValueId v = g.AddInput("x", {1, c.c_in, c.h, c.w});
    ValueId w = Const(g, "w", Random({c.c_out, c.c_in, c.kh, c.kw}, rng));
    v = g.AddNode(OpKind::kConv, "conv", {v, w}, "c",
                  {{"strides", std::vector<int64_t>{c.stride, c.stride}},
                   {"pads", std::vector<int64_t>{c.pad, c.pad, c.pad, c.pad}},
                   {"dilations", std::vector<int64_t>{c.dilation, c.dilation}},
                   {"group", int64_t{1}}});
    Tensor var = Random({c.c_out}, rng);
    for (double& x : var.data) x = 0.5 + x * x;
    v = g.AddNode(OpKind::kBatchNormalization, "bn",
                  {v, Const(g, "g", Random({c.c_out}, rng)), Const(g, "b", Random({c.c_out}, rng)),
                   Const(g, "m", Random({c.c_out}, rng)), Const(g, "v", var)},
                  "bn", {{"epsilon", 1e-5}});
    v = g.AddNode(OpKind::kSquare, "sq", {v}, "sq");
    v = g.AddNode(OpKind::kGlobalAveragePool, "gap", {v}, "gap");
    v = g.AddNode(OpKind::kFlatten, "flat", {v}, "flat", {{"axis", int64_t{1}}});
    g.AddOutput(v);
    ASSERT_TRUE(ir::InferShapes(g).ok());
    auto p = Lower(g);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->depth(), 3);  // conv+bn, square, pooling
    ExpectSameAsReference(g, *p, 11);
  }
}

TEST(LowerTest, MatMulPlusAddAndNonPowerOfTwoWidths) {
  std::mt19937 rng(3);
  ir::Graph g;
  ValueId v = g.AddInput("x", {1, 37});
  v = g.AddNode(OpKind::kMatMul, "mm", {v, Const(g, "w", Random({37, 23}, rng))}, "mm");
  v = g.AddNode(OpKind::kAdd, "add", {v, Const(g, "b", Random({23}, rng))}, "add");
  v = g.AddNode(OpKind::kMul, "sq", {v, v}, "sq");
  v = g.AddNode(OpKind::kMatMul, "mm2", {v, Const(g, "w2", Random({23, 5}, rng))}, "mm2");
  v = g.AddNode(OpKind::kSub, "sub", {Const(g, "c", Random({1, 5}, rng)), v}, "out");
  g.AddOutput(v);
  ASSERT_TRUE(ir::InferShapes(g).ok());
  auto p = Lower(g);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->depth(), 3);
  ExpectSameAsReference(g, *p, 5);
}

TEST(LowerTest, GeneralQuadraticWithZeroLeadingCoefficientsKeepsTheLinearPart) {
  // alpha has zeros where beta does not: completing the square is impossible,
  // the general form a v² + b v + c must still be exact.
  std::mt19937 rng(9);
  ir::Graph g;
  ValueId x = g.AddInput("x", {1, 6});
  ValueId v = g.AddNode(OpKind::kGemm, "fc", {x, Const(g, "w", Random({6, 6}, rng))}, "fc");
  Tensor a = Random({6}, rng);
  a.data[2] = 0.0;
  a.data[4] = 0.0;
  ValueId av = g.AddNode(OpKind::kMul, "a", {Const(g, "ca", a), v}, "av");
  ValueId sq = g.AddNode(OpKind::kMul, "sq", {av, v}, "sq");
  ValueId bv = g.AddNode(OpKind::kMul, "b", {v, Const(g, "cb", Random({6}, rng))}, "bv");
  ValueId s = g.AddNode(OpKind::kAdd, "s", {sq, bv}, "s");
  s = g.AddNode(OpKind::kAdd, "c", {s, Const(g, "cc", Random({6}, rng))}, "out0");
  s = g.AddNode(OpKind::kGemm, "fc2", {s, Const(g, "w2", Random({3, 6}, rng))}, "out",
                {{"transB", int64_t{1}}});
  g.AddOutput(s);
  ASSERT_TRUE(ir::InferShapes(g).ok());
  auto p = Lower(g);
  ASSERT_TRUE(p.ok()) << p.status();
  ExpectSameAsReference(g, *p, 13);
}

TEST(LowerTest, ProductOfTwoDifferentValuesAndSumOfBranches) {
  std::mt19937 rng(21);
  ir::Graph g;
  ValueId x = g.AddInput("x", {1, 8});
  ValueId a = g.AddNode(OpKind::kGemm, "fa", {x, Const(g, "wa", Random({8, 8}, rng))}, "a");
  ValueId b = g.AddNode(OpKind::kGemm, "fb", {x, Const(g, "wb", Random({8, 8}, rng))}, "b");
  ValueId ab = g.AddNode(OpKind::kMul, "ab", {a, b}, "ab");
  ValueId sq = g.AddNode(OpKind::kSquare, "sq", {x}, "sq");
  ValueId s = g.AddNode(OpKind::kSub, "s", {ab, sq}, "s");
  s = g.AddNode(OpKind::kAdd, "s2", {s, a}, "out");
  g.AddOutput(s);
  ASSERT_TRUE(ir::InferShapes(g).ok());
  auto p = Lower(g);
  ASSERT_TRUE(p.ok()) << p.status();
  int products = 0;
  for (const auto& t : p->terms) products += t.kind == compiler::Term::Kind::kProduct;
  EXPECT_EQ(products, 1) << compiler::DumpProgram(*p);
  ExpectSameAsReference(g, *p, 17);
}

TEST(LowerTest, AveragePoolWithPaddingAndBroadcastConstants) {
  std::mt19937 rng(5);
  for (int include_pad : {0, 1}) {
    ir::Graph g;
    ValueId v = g.AddInput("x", {1, 2, 7, 9});
    v = g.AddNode(OpKind::kMul, "m", {v, Const(g, "s", Random({2, 1, 1}, rng))}, "m");
    v = g.AddNode(OpKind::kAveragePool, "pool", {v}, "pool",
                  {{"kernel_shape", std::vector<int64_t>{3, 2}},
                   {"strides", std::vector<int64_t>{2, 2}},
                   {"pads", std::vector<int64_t>{1, 0, 1, 1}},
                   {"count_include_pad", int64_t{include_pad}}});
    v = g.AddNode(OpKind::kAdd, "a", {v, Const(g, "c", Random({1, 1, 5}, rng))}, "out");
    g.AddOutput(v);
    ASSERT_TRUE(ir::InferShapes(g).ok()) << ir::InferShapes(g);
    auto p = Lower(g);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->depth(), 1);  // scale, pool and add fuse into one map
    ExpectSameAsReference(g, *p, 19);
  }
}

// Max diagonals of any transform that builds term k, over its forms.
int64_t TermDiagonals(const runtime::Plan& plan, size_t k) {
  int64_t d = 0;
  for (const runtime::PlanForm* f : {&plan.terms[k].a, &plan.terms[k].b}) {
    for (const auto& part : f->parts) {
      if (!part.identity) d += part.lt.num_diagonals();
    }
  }
  return d;
}

// Fitted layouts (PackOptions::fit_layouts) on a second convolution after a
// pooling, with several channel counts, sizes that are not powers of two
// and strides: the packed plan on exact slot vectors computes what the
// program computes, and the second convolution needs far fewer diagonals
// than in the tiled layout.
TEST(LowerTest, FittedLayoutsForLaterConvolutionsAreExactAndCheaper) {
  std::mt19937 rng(23);
  struct Case {
    int c_in, h, w, c1, c2, k2, stride2;
    bool much_cheaper;  // the tiled layout has many diagonals to save
  };
  for (const Case& c : {Case{1, 20, 20, 8, 16, 3, 1, true}, Case{1, 12, 12, 4, 8, 3, 1, false},
                        Case{1, 10, 14, 3, 5, 3, 1, false}, Case{2, 9, 9, 4, 6, 2, 2, false}}) {
    ir::Graph g;
    ValueId v = g.AddInput("x", {1, c.c_in, c.h, c.w});
    auto conv = [&](ValueId in, int cin, int cout, int k, int stride, int pad,
                    const std::string& name) {
      return g.AddNode(OpKind::kConv, name, {in, Const(g, name + "w", Random({cout, cin, k, k}, rng))},
                       name, {{"strides", std::vector<int64_t>{stride, stride}},
                              {"pads", std::vector<int64_t>{pad, pad, pad, pad}},
                              {"dilations", std::vector<int64_t>{1, 1}},
                              {"group", int64_t{1}}});
    };
    v = conv(v, c.c_in, c.c1, 3, 1, 1, "conv1");
    v = g.AddNode(OpKind::kSquare, "sq1", {v}, "sq1");
    v = g.AddNode(OpKind::kAveragePool, "pool", {v}, "pool",
                  {{"kernel_shape", std::vector<int64_t>{2, 2}},
                   {"strides", std::vector<int64_t>{2, 2}},
                   {"pads", std::vector<int64_t>{0, 0, 0, 0}},
                   {"count_include_pad", int64_t{0}}});
    v = conv(v, c.c1, c.c2, c.k2, c.stride2, 1, "conv2");
    v = g.AddNode(OpKind::kSquare, "sq2", {v}, "sq2");
    v = g.AddNode(OpKind::kFlatten, "flat", {v}, "flat", {{"axis", int64_t{1}}});
    const int64_t h3 = (c.h / 2 + 2 - c.k2) / c.stride2 + 1;
    const int64_t w3 = (c.w / 2 + 2 - c.k2) / c.stride2 + 1;
    const int64_t features = c.c2 * h3 * w3;
    v = g.AddNode(OpKind::kMatMul, "fc", {v, Const(g, "fcw", Random({features, 7}, rng))}, "out");
    g.AddOutput(v);
    ASSERT_TRUE(ir::InferShapes(g).ok()) << ir::InferShapes(g);
    auto p = Lower(g);
    ASSERT_TRUE(p.ok()) << p.status();
    ExpectSameAsReference(g, *p, 29);
    for (auto packing : {compiler::InputPacking::kAlignedCopies, compiler::InputPacking::kIm2col}) {
      compiler::PackOptions tiled_options, fitted_options;
      tiled_options.input_packing = fitted_options.input_packing = packing;
      tiled_options.fit_layouts = false;
      auto tiled = compiler::PackLatency(*p, 1 << 15, tiled_options);
      auto fitted = compiler::PackLatency(*p, 1 << 15, fitted_options);
      ASSERT_TRUE(tiled.ok()) << tiled.status();
      ASSERT_TRUE(fitted.ok()) << fitted.status();
      // Term 1 is the first square (gathered), term 2 the second.
      ASSERT_EQ(fitted->terms.size(), 3u);
      EXPECT_TRUE(tiled->terms[2].layout.empty());
      std::printf("%dx%d, %d -> %d -> %d channels, %s input: second convolution %lld "
                  "diagonals tiled, %lld %s\n",
                  c.h, c.w, c.c_in, c.c1, c.c2, compiler::InputPackingName(packing),
                  static_cast<long long>(TermDiagonals(*tiled, 2)),
                  static_cast<long long>(TermDiagonals(*fitted, 2)),
                  fitted->terms[2].layout.empty() ? "(kept tiled)" : "fitted");
      if (c.much_cheaper) {
        EXPECT_FALSE(fitted->terms[2].layout.empty()) << compiler::InputPackingName(packing);
        EXPECT_LT(3 * TermDiagonals(*fitted, 2), TermDiagonals(*tiled, 2))
            << compiler::InputPackingName(packing);
      }
      EXPECT_LE(TermDiagonals(*fitted, 2), TermDiagonals(*tiled, 2));
      std::uniform_real_distribution<double> u(-1, 1);
      std::vector<double> x(p->input_dim());
      for (double& e : x) e = u(rng);
      circuits::SlotBackend backend(fitted->slots);
      ExpectPlanOnSlotsMatchesProgram(backend, *fitted, *p, x,
                                      compiler::InputPackingName(packing));
    }
  }
}

TEST(LowerTest, SigmoidRefusedAndBatchAboveOneRefused) {
  ir::Graph g;
  ValueId v = g.AddInput("x", {1, 4});
  v = g.AddNode(OpKind::kSigmoid, "sig", {v}, "out");
  g.AddOutput(v);
  ASSERT_TRUE(ir::InferShapes(g).ok());
  auto p = Lower(g);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("node 'sig' (Sigmoid): not a polynomial"),
            std::string::npos);

  ir::Graph b;
  ValueId w = b.AddInput("x", {2, 4});
  w = b.AddNode(OpKind::kSquare, "sq", {w}, "out");
  b.AddOutput(w);
  ASSERT_TRUE(ir::InferShapes(b).ok());
  auto q = Lower(b);
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.status().message().find("batch dimension 1"), std::string::npos);
}

}  // namespace
}  // namespace blindfold
