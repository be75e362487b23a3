// File: tests/baseline_test.cc
// The conventional baseline (docs/design/baseline.md) and the ablation
// switches (compiler/lower/compile.h), as properties of the compiled plans:
// the baseline's fixed parameters hold the deepest shipped model exactly,
// no plaintext-weight op shares a level with another, every transform is
// the plain diagonal method, the key set is every power of two and the
// input sits at the top of the chain; and each switch changes what it
// claims and nothing else. Encrypted runs of every configuration are
// tools/bench_test.cc's (blindfold bench --quick).
#include <set>
#include <string>
#include <vector>

#include "compiler/lower/compile.h"
#include "compiler/onnx/importer.h"
#include "data/fashion_mnist.h"
#include "gtest/gtest.h"
#include "runtime/cost_model.h"
#include "runtime/plan_io.h"

namespace blindfold {
namespace {

using compiler::CompileOptions;
using compiler::Optimization;

const char* const kModels[] = {"logreg", "mlp", "cnn-small", "cnn", "mlp-relu", "cnn-deep"};

compiler::ir::Graph Model(const std::string& name) {
  auto g = compiler::ImportOnnxFile(std::string(BLINDFOLD_SOURCE_DIR) + "/models/" + name +
                                    "/" + name + ".onnx");
  EXPECT_TRUE(g.ok()) << g.status();
  return *std::move(g);
}

const std::vector<std::vector<double>>& Calibration() {
  static const auto* cal = [] {
    auto train = data::LoadFashionMnist(std::string(data::kDefaultFashionMnistDir),
                                        data::Split::kTrain);
    EXPECT_TRUE(train.ok()) << train.status();
    auto* c = new std::vector<std::vector<double>>;
    for (int i = 0; i < 64; ++i) c->push_back(train->Preprocessed(i));
    return c;
  }();
  return *cal;
}

runtime::Plan Compile(const std::string& model, const CompileOptions& o) {
  auto plan = compiler::Compile(Model(model), Calibration(), o);
  EXPECT_TRUE(plan.ok()) << model << ": " << plan.status();
  return plan.ok() ? *std::move(plan) : runtime::Plan{};
}

CompileOptions Without(Optimization off) {
  CompileOptions o;
  o.Disable(off);
  return o;
}

// Levels the program consumes (the input may sit above them).
int LevelsUsed(const runtime::Plan& p) {
  return p.depth - p.output.level + (p.output.rescale ? 0 : 1);
}

template <typename F>
void ForEachForm(const runtime::Plan& p, F f) {
  for (size_t k = 1; k < p.terms.size(); ++k) {
    f(p.terms[k].a);
    if (p.terms[k].kind == runtime::PlanTerm::Kind::kProduct) f(p.terms[k].b);
  }
  f(p.output);
}

bool IsIdentityMatrix(const runtime::PlanPart& part) {
  if (part.identity) return true;
  if (part.rows != part.cols) return false;
  for (int64_t r = 0; r < part.rows; ++r) {
    if (part.matrix[r].size() != 1 || part.matrix[r][0].first != r ||
        part.matrix[r][0].second != 1.0) {
      return false;
    }
  }
  return true;
}

// Forms that multiply by weights (a matrix other than the identity), and
// the largest number of such parts in one form.
std::pair<int, int> WeightForms(const runtime::Plan& p) {
  int forms = 0, most = 0;
  ForEachForm(p, [&](const runtime::PlanForm& f) {
    int parts = 0;
    for (const auto& part : f.parts) parts += !IsIdentityMatrix(part);
    forms += parts > 0;
    most = std::max(most, parts);
  });
  return {forms, most};
}

// Plaintext-weight ops of the graph: each is one HE op in the baseline
// (Relu and Sigmoid add one coefficient product each).
int WeightOps(const compiler::ir::Graph& g) {
  using compiler::ir::OpKind;
  int n = 0;
  for (const auto& node : g.nodes()) {
    switch (node.op) {
      case OpKind::kConv:
      case OpKind::kGemm:
      case OpKind::kMatMul:
      case OpKind::kBatchNormalization:
      case OpKind::kAveragePool:
      case OpKind::kGlobalAveragePool:
      case OpKind::kRelu:
      case OpKind::kSigmoid:
        ++n;
        break;
      case OpKind::kMul: {
        bool constant = false;
        for (auto in : node.inputs) constant |= g.value(in).constant.has_value();
        n += constant;
        break;
      }
      default:
        break;
    }
  }
  return n;
}

TEST(BaselineTest, FixedParametersHoldTheDeepestShippedModelExactly) {
  const ckks::ParametersLiteral want = compiler::BaselineParameters();
  EXPECT_EQ(want.log_n, 15);
  EXPECT_EQ(static_cast<int>(want.log_q.size()), compiler::kBaselineDepth + 1);
  EXPECT_EQ(want.log_p.size(), 1u);  // one special prime, as SEAL has
  int deepest = 0;
  for (const char* m : kModels) {
    const runtime::Plan p = Compile(m, compiler::BaselineOptions());
    ASSERT_FALSE(p.terms.empty()) << m;
    EXPECT_EQ(p.params.log_n, want.log_n) << m;
    EXPECT_EQ(p.params.q.size(), want.log_q.size()) << m;
    EXPECT_EQ(p.params.p.size(), want.log_p.size()) << m;
    EXPECT_EQ(p.input_scale_log2, want.log_default_scale) << m;
    // No modulus dropping: the input at the top of the chain.
    EXPECT_EQ(p.depth, compiler::kBaselineDepth) << m;
    deepest = std::max(deepest, LevelsUsed(p));
    if (std::string(m) == "cnn-deep") EXPECT_EQ(LevelsUsed(p), compiler::kBaselineDepth);
  }
  // Large enough for the deepest model, and not larger.
  EXPECT_EQ(deepest, compiler::kBaselineDepth);
}

TEST(BaselineTest, EveryWeightOpIsAnOperationOfItsOwn) {
  for (const char* m : kModels) {
    const compiler::ir::Graph g = Model(m);
    const runtime::Plan base = Compile(m, compiler::BaselineOptions());
    const runtime::Plan fused = Compile(m, CompileOptions{});
    const auto [forms, most] = WeightForms(base);
    EXPECT_EQ(forms, WeightOps(g)) << m;
    EXPECT_EQ(most, 1) << m << ": two weight ops share a form";
    // Fusion merges the normalisation into the first layer (and more).
    EXPECT_LT(WeightForms(fused).first, forms) << m;
    EXPECT_LT(LevelsUsed(fused), LevelsUsed(base)) << m;
  }
}

TEST(BaselineTest, OneKeySetServesEveryModelsBaseline) {
  // SEAL's default keys: every power-of-two rotation key and the
  // relinearization key whole, at the top of the fixed chain, so the same
  // evaluation keys load for every model's baseline (blindfold bench makes
  // them once). Keys made for a lower level would be refused by the server.
  std::map<int64_t, int> rotations;
  for (const char* m : {"logreg", "mlp", "cnn-small", "cnn", "mlp-relu"}) {
    const runtime::Plan p = Compile(m, compiler::BaselineOptions());
    EXPECT_EQ(p.depth, compiler::kBaselineDepth) << m;
    for (const auto& [r, level] : p.RotationLevels()) EXPECT_EQ(level, p.depth) << m;
    if (rotations.empty()) rotations = p.RotationLevels();
    EXPECT_EQ(p.RotationLevels(), rotations) << m;
    if (p.CiphertextProductCount() > 0) EXPECT_EQ(p.RelinLevel(), p.depth) << m;
  }
  // The optimized plans keep keys at the levels they are used at.
  const runtime::Plan opt = Compile("cnn-small", CompileOptions{});
  EXPECT_LT(opt.RelinLevel(), opt.depth);
}

TEST(BaselineTest, PlainDiagonalsPowerOfTwoKeysAndEagerRescaling) {
  for (const char* m : {"mlp", "cnn"}) {
    const runtime::Plan p = Compile(m, compiler::BaselineOptions());
    EXPECT_FALSE(p.execution.hoist);
    EXPECT_TRUE(p.execution.eager_rescale);
    EXPECT_TRUE(p.execution.power_of_two_rotations);
    EXPECT_EQ(p.Rotations(), circuits::PowerOfTwoRotations(int64_t{1} << 14));
    EXPECT_EQ(p.Rotations().size(), 27u);
    EXPECT_EQ(p.HoistedRotationCount(), 0);
    // One giant step per transform: each diagonal offset is a rotation of
    // the input, composed of the non-adjacent form's power-of-two hops.
    int64_t hops = 0;
    ForEachForm(p, [&](const runtime::PlanForm& f) {
      for (const auto& part : f.parts) {
        if (part.identity) continue;
        EXPECT_EQ(part.lt.blocks.size(), 1u) << m;
        EXPECT_EQ(part.lt.blocks.begin()->first, 0) << m;
        for (int64_t s : part.lt.BabySteps()) {
          hops += static_cast<int64_t>(circuits::PowerOfTwoHops(s, p.slots).size());
        }
        for (int64_t s : part.lt.SumSteps()) {
          hops += static_cast<int64_t>(circuits::PowerOfTwoHops(s, p.slots).size());
        }
      }
    });
    EXPECT_EQ(p.RotationCount(), hops) << m;
    EXPECT_TRUE(runtime::SimulatePlan(p).ok()) << m;
  }
}

// The plan with its execution options set back to the defaults.
std::string WithDefaultExecution(runtime::Plan p) {
  p.execution = {};
  return runtime::SerializePlan(p);
}

TEST(AblationTest, EachSwitchChangesWhatItClaimsAndNothingElse) {
  const runtime::Plan opt = Compile("cnn", CompileOptions{});
  ASSERT_FALSE(opt.terms[0].layout.empty()) << "cnn's input layout is a client gather";
  EXPECT_EQ(opt.execution, circuits::TransformOptions{});
  const std::string opt_bytes = runtime::SerializePlan(opt);

  // Level planning off: every product rescaled on its own; the plan is the
  // same otherwise (per-model parameters leave no level above the depth).
  const runtime::Plan level = Compile("cnn", Without(Optimization::kLevelPlanning));
  EXPECT_TRUE(level.execution.eager_rescale);
  EXPECT_TRUE(level.execution.hoist);
  EXPECT_FALSE(level.execution.power_of_two_rotations);
  EXPECT_EQ(WithDefaultExecution(level), opt_bytes);

  // Minimal keys off: every power-of-two key, rotations composed of them.
  const runtime::Plan keys = Compile("cnn", Without(Optimization::kMinimalKeys));
  EXPECT_TRUE(keys.execution.power_of_two_rotations);
  EXPECT_TRUE(keys.execution.hoist);
  EXPECT_FALSE(keys.execution.eager_rescale);
  EXPECT_EQ(keys.Rotations(),
            circuits::PowerOfTwoRotations(int64_t{1} << (keys.params.log_n - 1)));
  EXPECT_NE(keys.Rotations(), opt.Rotations());
  EXPECT_EQ(WithDefaultExecution(keys), opt_bytes);

  // BSGS off: one giant step per transform, nothing hoisted.
  const runtime::Plan bsgs = Compile("cnn", Without(Optimization::kBsgs));
  EXPECT_FALSE(bsgs.execution.hoist);
  EXPECT_FALSE(bsgs.execution.eager_rescale);
  EXPECT_EQ(bsgs.HoistedRotationCount(), 0);
  EXPECT_GT(bsgs.RotationCount(), opt.RotationCount() + opt.HoistedRotationCount());
  ForEachForm(bsgs, [&](const runtime::PlanForm& f) {
    for (const auto& part : f.parts) {
      if (!part.identity) EXPECT_EQ(part.lt.blocks.size(), 1u);
    }
  });
  EXPECT_EQ(bsgs.params.log_n, opt.params.log_n);
  EXPECT_EQ(bsgs.depth, opt.depth);

  // Input layout off: the plain layout, the same program.
  const runtime::Plan layout = Compile("cnn", Without(Optimization::kInputLayout));
  for (const auto& t : layout.terms) EXPECT_TRUE(t.layout.empty());
  EXPECT_EQ(layout.execution, circuits::TransformOptions{});
  EXPECT_EQ(layout.depth, opt.depth);
  EXPECT_EQ(layout.terms.size(), opt.terms.size());

  // Parameter selection off: the baseline's fixed parameters, everything
  // else optimized, the input still at the level the plan needs.
  const runtime::Plan params = Compile("cnn", Without(Optimization::kParameterSelection));
  const ckks::ParametersLiteral fixed = compiler::BaselineParameters();
  EXPECT_EQ(params.params.log_n, fixed.log_n);
  EXPECT_EQ(params.params.q.size(), fixed.log_q.size());
  EXPECT_EQ(params.params.p.size(), fixed.log_p.size());
  EXPECT_EQ(params.depth, opt.depth);
  EXPECT_LT(params.depth, compiler::kBaselineDepth);
  EXPECT_EQ(params.execution, circuits::TransformOptions{});
  EXPECT_NE(opt.params.log_n, fixed.log_n);

  // Fusion off: a form per weight op, more levels, the rest optimized.
  const runtime::Plan fusion = Compile("cnn", Without(Optimization::kFusion));
  EXPECT_EQ(WeightForms(fusion).first, WeightOps(Model("cnn")));
  EXPECT_GT(LevelsUsed(fusion), LevelsUsed(opt));
  EXPECT_EQ(fusion.execution, circuits::TransformOptions{});
  EXPECT_EQ(fusion.depth, LevelsUsed(fusion));
}

TEST(AblationTest, KeySetIsThePowerOfTwoSetOnlyWhenMuchSmallerAtAboutTheSameSpeed) {
  // cnn-deep without its packing layouts rotates by 203 distinct amounts:
  // the 27 power-of-two keys serve it at a predicted cost within 10 % and
  // take less than half the bytes, so the compiler takes them.
  const runtime::Plan deep = Compile("cnn-deep", Without(Optimization::kInputLayout));
  EXPECT_TRUE(deep.execution.power_of_two_rotations);
  EXPECT_EQ(deep.Rotations().size(), 27u);
  EXPECT_TRUE(deep.execution.hoist);
  runtime::Plan exact = deep;
  exact.execution.power_of_two_rotations = false;
  EXPECT_GT(exact.Rotations().size(), 2 * deep.Rotations().size());
  EXPECT_GE(runtime::EvaluationKeyBytes(exact), 2 * runtime::EvaluationKeyBytes(deep));
  EXPECT_LT(exact.RotationCount() + exact.HoistedRotationCount(),
            deep.RotationCount() + deep.HoistedRotationCount());
  // Every shipped model's plan follows the same rule (each keeps its exact
  // key set today), and turning the switch off always takes the
  // power-of-two set.
  for (const char* m : {"logreg", "mlp", "cnn-small", "cnn", "mlp-relu", "cnn-deep"}) {
    const runtime::Plan plan = Compile(m, CompileOptions{});
    runtime::Plan exact_keys = plan, powers = plan;
    exact_keys.execution.power_of_two_rotations = false;
    powers.execution.power_of_two_rotations = true;
    const bool much_smaller = 2 * runtime::EvaluationKeyBytes(powers) <=
                              runtime::EvaluationKeyBytes(exact_keys);
    const bool about_as_fast = runtime::PredictLatency(powers).total_ms() <=
                               1.1 * runtime::PredictLatency(exact_keys).total_ms();
    EXPECT_EQ(plan.execution.power_of_two_rotations, much_smaller && about_as_fast) << m;
    EXPECT_FALSE(plan.execution.power_of_two_rotations) << m;
  }
  EXPECT_TRUE(Compile("cnn", Without(Optimization::kMinimalKeys))
                  .execution.power_of_two_rotations);
}

TEST(AblationTest, PlanFilesCarryTheExecutionOptions) {
  const runtime::Plan opt = Compile("mlp", CompileOptions{});
  const std::string v1 = runtime::SerializePlan(opt);
  ASSERT_GT(v1.size(), 12u);
  EXPECT_EQ(v1[8], 1) << "default execution options keep version 1";
  const runtime::Plan base = Compile("mlp", compiler::BaselineOptions());
  const std::string v2 = runtime::SerializePlan(base);
  EXPECT_EQ(v2[8], 2);
  auto back = runtime::DeserializePlan(v2);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->execution, base.execution);
  EXPECT_EQ(runtime::SerializePlan(*back), v2);
  EXPECT_EQ(back->Rotations(), base.Rotations());
  // An option byte other than 0 or 1 is refused, naming it.
  std::string bad = v2;
  bad[12] = 2;
  auto refused = runtime::DeserializePlan(bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("execution option"), std::string::npos)
      << refused.status();
}

TEST(AblationTest, SwitchesAreNamedAndLatencyOnly) {
  for (Optimization o : compiler::kAllOptimizations) {
    auto parsed = compiler::ParseOptimization(compiler::OptimizationName(o));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, o);
    CompileOptions off;
    off.Disable(o);
    EXPECT_FALSE(off.Enabled(o));
    for (Optimization other : compiler::kAllOptimizations) {
      if (other != o) EXPECT_TRUE(off.Enabled(other));
    }
  }
  auto unknown = compiler::ParseOptimization("hoisting");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("minimal-keys"), std::string::npos);
  CompileOptions batched = compiler::BaselineOptions();
  batched.mode = runtime::PackingMode::kThroughput;
  auto refused = compiler::Compile(Model("logreg"), Calibration(), batched);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("latency mode"), std::string::npos)
      << refused.status();
}

}  // namespace
}  // namespace blindfold
