// File: tests/plan_test.cc
// The plan file and the metadata simulator: round trips, every kind of
// malformed plan rejected with a clear error (truncation at every length,
// bit flips, wrong magic and version, broken references and levels), the
// simulator agreeing with the CKKS executor on every value's level and
// scale, and the throughput executor's streamed terms changing no word of
// its results.
#include <cmath>
#include <memory>
#include <random>
#include <string>

#include "circuits/ckks_backend.h"
#include "circuits/meta_backend.h"
#include "ckks/encoder.h"
#include "ckks/encryptor.h"
#include "ckks/evaluator.h"
#include "ckks/keys.h"
#include "compiler/ir/graph.h"
#include "compiler/lower/compile.h"
#include "ckks/internal/access.h"
#include "compiler/onnx/importer.h"
#include "data/fashion_mnist.h"
#include "gtest/gtest.h"
#include "runtime/plan_io.h"

namespace blindfold {
namespace {

runtime::Plan CompileModel(const std::string& name, runtime::PackingMode mode =
                                                        runtime::PackingMode::kLatency) {
  auto g = compiler::ImportOnnxFile(std::string(BLINDFOLD_SOURCE_DIR) + "/models/" + name +
                                    "/" + name + ".onnx");
  EXPECT_TRUE(g.ok()) << g.status();
  auto train = data::LoadFashionMnist(std::string(data::kDefaultFashionMnistDir),
                                      data::Split::kTrain);
  EXPECT_TRUE(train.ok()) << train.status();
  std::vector<std::vector<double>> cal;
  for (int i = 0; i < 64; ++i) cal.push_back(train->Preprocessed(i));
  compiler::CompileOptions o;
  o.mode = mode;
  auto plan = compiler::Compile(*g, cal, o);
  EXPECT_TRUE(plan.ok()) << plan.status();
  return *plan;
}

// Keys for every rotation of a plan, and the codec objects around them.
struct PlanContext {
  ckks::ParametersPtr params;
  ckks::Encoder encoder;
  ckks::Encryptor encryptor;
  ckks::Decryptor decryptor;  // exact
  ckks::Evaluator evaluator;

  // Null (with a test failure) if any step fails.
  static std::unique_ptr<PlanContext> Make(const runtime::Plan& plan) {
    auto params = ckks::Parameters::Create(plan.params);
    EXPECT_TRUE(params.ok()) << params.status();
    if (!params.ok()) return nullptr;
    ckks::KeyGenerator keygen(*params);
    ckks::SecretKey sk = keygen.GenSecretKey();
    const auto steps = plan.Rotations();
    auto relin = keygen.GenRelinKey(sk);
    auto galois =
        keygen.GenGaloisKeys(sk, std::vector<int>(steps.begin(), steps.end()), false);
    EXPECT_TRUE(relin.ok() && galois.ok());
    if (!relin.ok() || !galois.ok()) return nullptr;
    auto keys = ckks::EvaluationKeys::Create(*params, *std::move(relin), *std::move(galois));
    EXPECT_TRUE(keys.ok()) << keys.status();
    if (!keys.ok()) return nullptr;
    auto encryptor = ckks::Encryptor::Create(*params, sk.Clone());
    auto decryptor =
        ckks::Decryptor::Create(*params, sk.Clone(), ckks::DecryptionOptions::Exact());
    auto evaluator = ckks::Evaluator::Create(*params, *keys);
    EXPECT_TRUE(encryptor.ok() && decryptor.ok() && evaluator.ok());
    if (!encryptor.ok() || !decryptor.ok() || !evaluator.ok()) return nullptr;
    return std::unique_ptr<PlanContext>(new PlanContext{
        *params, ckks::Encoder(*params), *std::move(encryptor), *std::move(decryptor),
        *std::move(evaluator)});
  }
};

TEST(PlanFileTest, RoundTripIsByteExactInBothModes) {
  for (auto mode : {runtime::PackingMode::kLatency, runtime::PackingMode::kThroughput}) {
    const runtime::Plan plan = CompileModel("mlp", mode);
    const std::string bytes = runtime::SerializePlan(plan);
    auto back = runtime::DeserializePlan(bytes);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(runtime::SerializePlan(*back), bytes);
    EXPECT_EQ(back->Rotations(), plan.Rotations());
    EXPECT_EQ(back->mode, mode);
  }
}

TEST(PlanFileTest, EveryTruncationAndSampledBitFlipIsRejectedOrHarmless) {
  const std::string bytes = runtime::SerializePlan(CompileModel("logreg"));
  // Truncation at every length up to 4 KB and then every 997 bytes.
  for (size_t n = 0; n < bytes.size(); n += n < 4096 ? 1 : 997) {
    auto p = runtime::DeserializePlan(std::string_view(bytes).substr(0, n));
    ASSERT_FALSE(p.ok()) << "accepted a plan cut at " << n << " of " << bytes.size();
    ASSERT_NE(p.status().message().find("LoadPlan"), std::string::npos) << p.status();
  }
  auto extra = runtime::DeserializePlan(bytes + "x");
  ASSERT_FALSE(extra.ok());
  EXPECT_NE(extra.status().message().find("trailing"), std::string::npos);
  // Bit flips: rejected, or (flips inside weights) a valid plan again.
  std::mt19937 rng(5);
  for (int t = 0; t < 400; ++t) {
    std::string b = bytes;
    const size_t at = rng() % b.size();
    b[at] ^= static_cast<char>(1 << (rng() % 8));
    auto p = runtime::DeserializePlan(b);
    if (p.ok()) {
      EXPECT_TRUE(runtime::ValidatePlan(*p).ok());
    }
  }
}

TEST(PlanFileTest, MagicVersionAndStructureErrorsNameTheProblem) {
  const runtime::Plan plan = CompileModel("mlp");
  std::string b = runtime::SerializePlan(plan);
  std::string bad = b;
  bad[0] = 'X';
  EXPECT_NE(runtime::DeserializePlan(bad).status().message().find("bad magic"),
            std::string::npos);
  bad = b;
  bad[8] = 9;  // version
  EXPECT_NE(runtime::DeserializePlan(bad).status().message().find("version 9"),
            std::string::npos);

  runtime::Plan p = plan;
  p.terms[1].level += 1;
  EXPECT_FALSE(runtime::ValidatePlan(p).ok());
  p = plan;
  p.output.parts[0].term = 7;  // not an earlier term
  EXPECT_NE(runtime::ValidatePlan(p).message().find("not an earlier one"), std::string::npos);
  p = plan;
  p.params.log_n = 12;  // insecure
  EXPECT_NE(runtime::ValidatePlan(p).message().find("parameters"), std::string::npos);
  p = plan;
  p.depth = 1;  // the chain is deeper than the plan says
  EXPECT_FALSE(runtime::ValidatePlan(p).ok());
}

// The plan fuzzer's seeds must be plans this build loads, or the fuzzer
// starts from nothing. Regenerate them with
//   blindfold compile models/logreg/logreg.onnx [--mode throughput] -o fuzz/corpus/plan/...
TEST(PlanFileTest, FuzzSeedsLoad) {
  for (const char* seed : {"logreg_latency", "logreg_throughput"}) {
    auto p = runtime::ReadPlanFile(std::string(BLINDFOLD_SOURCE_DIR) + "/fuzz/corpus/plan/" + seed);
    EXPECT_TRUE(p.ok()) << seed << ": " << p.status();
  }
}

// Every shipped model's plan, in both modes, passes the simulator: each
// term on its recorded level and canonical scale, the output on level 0,
// the rotations performed exactly the key set.
TEST(SimulatorTest, EveryShippedPlanSimulatesCleanly) {
  for (const char* m : {"logreg", "mlp", "cnn-small", "cnn", "mlp-relu"}) {
    for (auto mode : {runtime::PackingMode::kLatency, runtime::PackingMode::kThroughput}) {
      const runtime::Plan p = CompileModel(m, mode);
      EXPECT_TRUE(runtime::SimulatePlan(p).ok()) << m;
    }
  }
}

// Simulator and CKKS executor agree on every value's level and scale.
TEST(SimulatorTest, AgreesWithCkksExecutorOnEveryValue) {
  const runtime::Plan plan = CompileModel("mlp-relu");
  const auto ctx = PlanContext::Make(plan);
  ASSERT_NE(ctx, nullptr);
  const ckks::Encoder& encoder = ctx->encoder;
  const ckks::Encryptor& encryptor = ctx->encryptor;
  const ckks::Evaluator& evaluator = ctx->evaluator;
  const ckks::Scale top = ckks::Scale::FromLog2(plan.input_scale_log2);
  ckks::Plaintext pt;
  ASSERT_TRUE(encoder
                  .Encode(std::vector<double>(plan.slots, 0.25),
                          static_cast<size_t>(plan.slots), plan.depth, top, &pt)
                  .ok());
  auto ct = encryptor.EncryptNew(pt);
  ASSERT_TRUE(ct.ok());
  std::vector<std::pair<int, double>> real, simulated;
  circuits::CkksBackend backend(evaluator, encoder, plan.depth, top, plan.slots);
  runtime::ExecutePlan(backend, plan, *ct, [&](size_t, const ckks::Ciphertext& c) {
    real.emplace_back(c.level(), c.scale().value());
  });
  ASSERT_TRUE(backend.status().ok()) << backend.status();
  std::vector<double> q;
  for (int l = 0; l <= plan.depth; ++l) q.push_back(static_cast<double>(ctx->params->q(l)));
  circuits::MetaBackend meta(q, plan.depth, top.value());
  runtime::ExecutePlan(meta, plan, circuits::MetaCt{plan.depth, top.value(), 1},
                       [&](size_t, const circuits::MetaCt& c) {
                         simulated.emplace_back(c.level, c.scale);
                       });
  ASSERT_EQ(real.size(), plan.terms.size());  // every term but the input, + output
  ASSERT_EQ(real.size(), simulated.size());
  for (size_t k = 0; k < real.size(); ++k) {
    EXPECT_EQ(real[k].first, simulated[k].first) << "value " << k;
    EXPECT_TRUE(circuits::ScalesMatch(real[k].second, simulated[k].second))
        << "value " << k << ": 2^" << std::log2(real[k].second) << " vs 2^"
        << std::log2(simulated[k].second);
  }
  EXPECT_EQ(meta.key_switches, backend.key_switches);
}

// Double hoisting (the CKKS backend's default) against single hoisting on a
// real model's latency plan: the same key switches, and the same values to
// the plan's precision, both against the plaintext plan run.
TEST(SimulatorTest, DoubleHoistingComputesWhatSingleHoistingDoes) {
  const runtime::Plan plan = CompileModel("cnn-small");
  ASSERT_FALSE(plan.terms.empty());
  int64_t babies = 0;
  auto count = [&](const runtime::PlanForm& f) {
    for (const auto& part : f.parts) {
      if (!part.identity) babies += static_cast<int64_t>(part.lt.BabySteps().size());
    }
  };
  for (const auto& t : plan.terms) {
    count(t.a);
    count(t.b);
  }
  count(plan.output);
  ASSERT_GT(babies, 0) << "the plan has no hoisted rotations to test";
  const auto ctx = PlanContext::Make(plan);
  ASSERT_NE(ctx, nullptr);
  const ckks::Encoder& encoder = ctx->encoder;
  const ckks::Encryptor* encryptor = &ctx->encryptor;
  const ckks::Decryptor* decryptor = &ctx->decryptor;
  const ckks::Evaluator* evaluator = &ctx->evaluator;
  auto test = data::LoadFashionMnist(std::string(data::kDefaultFashionMnistDir),
                                     data::Split::kTest);
  ASSERT_TRUE(test.ok()) << test.status();
  const std::vector<double> x = test->Preprocessed(3);
  const std::vector<double> want = runtime::EvaluatePlanInSlots(plan, x);
  const ckks::Scale top = ckks::Scale::FromLog2(plan.input_scale_log2);
  ckks::Plaintext pt;
  ASSERT_TRUE(encoder
                  .Encode(circuits::Tile(runtime::LaidOut(x, plan.terms[0].layout,
                                                          plan.terms[0].period),
                                         plan.terms[0].period, plan.slots),
                          static_cast<size_t>(plan.slots), plan.depth, top, &pt)
                  .ok());
  auto ct = encryptor->EncryptNew(pt);
  ASSERT_TRUE(ct.ok());
  double err[2] = {0, 0};
  int64_t switches[2] = {0, 0};
  std::vector<double> got[2];
  for (int dbl = 0; dbl < 2; ++dbl) {
    circuits::CkksBackend backend(*evaluator, encoder, plan.depth, top, plan.slots);
    backend.set_double_hoisting(dbl == 1);
    const ckks::Ciphertext y = runtime::ExecutePlan(backend, plan, *ct);
    ASSERT_TRUE(backend.status().ok()) << backend.status();
    switches[dbl] = backend.key_switches;
    if (dbl == 1) EXPECT_GT(backend.double_hoisted_rotations, 0) << "no transform ran double hoisted";
    auto dec = decryptor->DecryptNew(y);
    ASSERT_TRUE(dec.ok()) << dec.status();
    auto slots = encoder.Decode(*dec);
    ASSERT_TRUE(slots.ok());
    got[dbl] = runtime::Gathered(*slots, plan.output.layout, plan.output.dim);
    ASSERT_EQ(got[dbl].size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      err[dbl] = std::max(err[dbl], std::abs(got[dbl][i] - want[i]));
    }
  }
  EXPECT_EQ(switches[0], switches[1]);
  EXPECT_LT(err[0], 3e-2) << "single hoisting";
  EXPECT_LT(err[1], 3e-2) << "double hoisting";
  // The two runs differ by their rounding noise only (both errors are
  // dominated by encryption and rescaling noise, so one sample cannot rank
  // their precision: a ratio check failed 1 run in 25).
  double apart = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    apart = std::max(apart, std::abs(got[1][i] - got[0][i]));
  }
  EXPECT_LT(apart, 3e-2);  // a bug is off by O(1)
}

// The diagonal cache gives the uncached run's ciphertexts word for word,
// whether it holds full forms, or (over its budget) compact forms that are
// expanded per use, on the first request and on later ones; a budget too
// small for the full forms keeps every diagonal compact.
TEST(SimulatorTest, CompactCachedDiagonalsGiveTheSameCiphertexts) {
  const runtime::Plan plan = CompileModel("cnn-small");
  const auto ctx = PlanContext::Make(plan);
  ASSERT_NE(ctx, nullptr);
  const ckks::Scale top = ckks::Scale::FromLog2(plan.input_scale_log2);
  ckks::Plaintext pt;
  ASSERT_TRUE(ctx->encoder
                  .Encode(std::vector<double>(plan.slots, 0.25),
                          static_cast<size_t>(plan.slots), plan.depth, top, &pt)
                  .ok());
  auto ct = ctx->encryptor.EncryptNew(pt);
  ASSERT_TRUE(ct.ok());
  auto run = [&](circuits::PlaintextCache* cache) {
    circuits::CkksBackend backend(ctx->evaluator, ctx->encoder, plan.depth, top, plan.slots,
                                  cache);
    ckks::Ciphertext y = runtime::ExecutePlan(backend, plan, *ct);
    EXPECT_TRUE(backend.status().ok()) << backend.status();
    return y;
  };
  const ckks::Ciphertext want = run(nullptr);
  circuits::PlaintextCache all(size_t{1} << 30);
  run(&all);
  const size_t diagonals = all.entries();
  ASSERT_GT(diagonals, 10u);
  EXPECT_EQ(all.full_forms(), diagonals);  // (this plan's transforms: one basis each)
  // Room for every compact form (2 slots words each) and a few full ones.
  const size_t compact_bytes = diagonals * 2 * static_cast<size_t>(plan.slots) * 8;
  circuits::PlaintextCache tight(compact_bytes + (size_t{1} << 20));
  for (circuits::PlaintextCache* cache : {&all, &tight, &tight, &tight}) {
    const ckks::Ciphertext got = run(cache);
    EXPECT_TRUE(got.polys() == want.polys());
  }
  EXPECT_EQ(tight.entries(), diagonals);
  EXPECT_LT(tight.full_forms(), diagonals / 2);
  EXPECT_LE(tight.bytes(), compact_bytes + (size_t{1} << 20));
  // Too small even for the compact forms: some diagonals are encoded per use.
  circuits::PlaintextCache tiny(compact_bytes / 2);
  EXPECT_TRUE(run(&tiny).polys() == want.polys());
  EXPECT_LT(tiny.entries(), diagonals);
}

// Runs a throughput plan on random CKKS inputs twice, every term held and
// every term that can be streamed in blocks of `rows` rows, and expects the
// same output ciphertexts word for word (streaming reorders exact modular
// sums); the simulator follows the streamed run too. Returns the schedule.
runtime::BatchedSchedule ExpectStreamedRunIsTheHeldRun(const runtime::Plan& plan, double rows) {
  runtime::BatchedOptions stream_all;
  stream_all.hold_bytes = 0;
  stream_all.block_limb_bytes = rows * static_cast<double>(int64_t{8} << plan.params.log_n);
  const runtime::BatchedSchedule held = runtime::ScheduleBatched(plan);
  const runtime::BatchedSchedule streamed = runtime::ScheduleBatched(plan, stream_all);
  for (size_t k = 0; k < plan.terms.size(); ++k) EXPECT_FALSE(held.streamed[k]) << k;
  EXPECT_FALSE(streamed.streamed[0]);  // the input arrives whole
  EXPECT_LT(streamed.peak_bytes, held.peak_bytes);

  auto params = ckks::Parameters::Create(plan.params);
  EXPECT_TRUE(params.ok()) << params.status();
  if (!params.ok()) return streamed;
  ckks::KeyGenerator keygen(*params);
  ckks::SecretKey sk = keygen.GenSecretKey();
  auto relin = keygen.GenRelinKey(sk);
  EXPECT_TRUE(relin.ok());
  auto keys = ckks::EvaluationKeys::Create(*params, *std::move(relin), ckks::GaloisKeys{});
  EXPECT_TRUE(keys.ok()) << keys.status();
  ckks::Encoder encoder(*params);
  auto encryptor = ckks::Encryptor::Create(*params, sk.Clone());
  auto evaluator = ckks::Evaluator::Create(*params, *keys);
  EXPECT_TRUE(encryptor.ok() && evaluator.ok());
  const ckks::Scale top = ckks::Scale::FromLog2(plan.input_scale_log2);
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<ckks::Ciphertext> in;
  for (int64_t e = 0; e < plan.terms[0].dim; ++e) {
    std::vector<double> v(plan.slots);
    for (double& x : v) x = u(rng);
    ckks::Plaintext pt;
    EXPECT_TRUE(encoder.Encode(v, static_cast<size_t>(plan.slots), plan.depth, top, &pt).ok());
    auto ct = encryptor->EncryptNew(pt);
    EXPECT_TRUE(ct.ok());
    in.push_back(*std::move(ct));
  }
  circuits::CkksBackend a(*evaluator, encoder, plan.depth, top, plan.slots);
  circuits::CkksBackend b(*evaluator, encoder, plan.depth, top, plan.slots);
  const auto want = runtime::ExecutePlanBatched(a, plan, in);
  int64_t calls = 0, last_done = 0, total = 0;
  const auto got = runtime::ExecutePlanBatched(b, plan, in, stream_all,
                                               [&](int64_t done, int64_t all) {
                                                 EXPECT_GE(done, last_done);
                                                 last_done = done;
                                                 total = all;
                                                 ++calls;
                                               });
  EXPECT_TRUE(a.status().ok()) << a.status();
  EXPECT_TRUE(b.status().ok()) << b.status();
  EXPECT_EQ(last_done, total);
  EXPECT_GE(calls, 2);
  EXPECT_EQ(got.size(), want.size());
  for (size_t r = 0; r < want.size() && r < got.size(); ++r) {
    EXPECT_EQ(got[r].level(), want[r].level());
    EXPECT_EQ(got[r].scale(), want[r].scale());
    for (int p = 0; p < 2 && got[r].level() == want[r].level(); ++p) {
      const auto& x = ckks::internal::Access::polys(got[r])[p];
      const auto& y = ckks::internal::Access::polys(want[r])[p];
      for (int i = 0; i <= want[r].level(); ++i) {
        EXPECT_TRUE(std::equal(x.limb(i), x.limb(i) + (*params)->n(), y.limb(i)))
            << "output " << r << " poly " << p << " limb " << i;
      }
    }
  }
  std::vector<double> q;
  for (int l = 0; l <= plan.depth; ++l) q.push_back(static_cast<double>((*params)->q(l)));
  circuits::MetaBackend meta(q, plan.depth, top.value());
  const auto simulated = runtime::ExecutePlanBatched(
      meta, plan,
      std::vector<circuits::MetaCt>(plan.terms[0].dim, {plan.depth, top.value(), 1}),
      stream_all);
  EXPECT_TRUE(meta.status().ok()) << meta.status();
  EXPECT_EQ(simulated.size(), want.size());
  if (!simulated.empty() && !want.empty()) EXPECT_EQ(simulated[0].level, want[0].level());
  return streamed;
}

// Streaming a throughput term (runtime/plan.h) pushes its rows block by
// block into its readers' sums instead of holding them. Blocks of 3 rows
// (dividing no term) cross every boundary.
TEST(BatchedStreamingTest, StreamedTermsGiveTheHeldCiphertextsWordForWord) {
  const runtime::Plan plan = CompileModel("cnn-small", runtime::PackingMode::kThroughput);
  ASSERT_GE(plan.terms.size(), 3u);
  const runtime::BatchedSchedule s = ExpectStreamedRunIsTheHeldRun(plan, 3.5);
  for (size_t k = 1; k < plan.terms.size(); ++k) {
    EXPECT_TRUE(s.streamed[k]) << k;  // every reader is narrower
  }
  EXPECT_EQ(s.block_rows[1], 3);
}

// A product of two forms that both read a streamed term: each block is
// pushed into the sums of both forms of the product (a generated graph:
// x -> Gemm -> square -> two Gemms multiplied -> Gemm).
TEST(BatchedStreamingTest, ProductOfTwoFormsOfAStreamedTerm) {
  using compiler::ir::OpKind;
  using compiler::ir::Tensor;
  using compiler::ir::ValueId;
  std::mt19937 rng(11);
  std::normal_distribution<double> n(0, 0.4);
  auto random = [&](std::vector<int64_t> shape) {
    Tensor t{shape, std::vector<double>(compiler::ir::NumElements(shape))};
    for (double& v : t.data) v = n(rng);
    return t;
  };
  compiler::ir::Graph g;
  ValueId x = g.AddInput("x", {1, 10});
  ValueId v = g.AddNode(OpKind::kGemm, "f1", {x, g.AddConstant("w1", random({10, 24}))}, "v");
  ValueId sq = g.AddNode(OpKind::kSquare, "sq", {v}, "sq");
  ValueId p = g.AddNode(OpKind::kGemm, "fp", {sq, g.AddConstant("wp", random({24, 7}))}, "p");
  ValueId q = g.AddNode(OpKind::kGemm, "fq", {sq, g.AddConstant("wq", random({24, 7}))}, "q");
  ValueId pq = g.AddNode(OpKind::kMul, "pq", {p, q}, "pq");
  ValueId out = g.AddNode(OpKind::kGemm, "fo", {pq, g.AddConstant("wo", random({7, 3}))}, "out");
  g.AddOutput(out);
  ASSERT_TRUE(compiler::ir::InferShapes(g).ok());
  std::vector<std::vector<double>> cal;
  std::uniform_real_distribution<double> u(-1, 1);
  for (int i = 0; i < 16; ++i) {
    cal.emplace_back(10);
    for (double& c : cal.back()) c = u(rng);
  }
  compiler::CompileOptions o;
  o.mode = runtime::PackingMode::kThroughput;
  auto plan = compiler::Compile(g, cal, o);
  ASSERT_TRUE(plan.ok()) << plan.status();
  bool product = false;
  for (const auto& t : plan->terms) {
    product = product || t.kind == runtime::PlanTerm::Kind::kProduct;
  }
  ASSERT_TRUE(product) << "the graph should lower to a product term";
  const runtime::BatchedSchedule s = ExpectStreamedRunIsTheHeldRun(*plan, 5.5);
  EXPECT_TRUE(s.streamed[1]);  // 24 squares, read by 7 + 7 sums
}

// The model streaming is for: cnn-deep's throughput plan held whole needs
// more memory than a 24 GB machine has; the default schedule streams its
// two wide terms and needs about half.
TEST(BatchedStreamingTest, CnnDeepThroughputFitsBecauseItStreams) {
  const runtime::Plan plan = CompileModel("cnn-deep", runtime::PackingMode::kThroughput);
  const runtime::BatchedSchedule s = runtime::ScheduleBatched(plan);
  ASSERT_EQ(plan.terms.size(), 4u);
  EXPECT_TRUE(s.streamed[1]);  // 12,544 ciphertexts, read by 6,272 sums
  EXPECT_TRUE(s.streamed[2]);
  EXPECT_FALSE(s.streamed[3]);  // 128: held
  EXPECT_GT(s.held_peak_bytes, 24e9);
  EXPECT_LT(s.peak_bytes, 14e9);
  EXPECT_TRUE(runtime::SimulatePlan(plan).ok());
}

}  // namespace
}  // namespace blindfold
