// File: tests/tabular_inference_test.cc
// Encrypted diagnosis on the breast-cancer test split (142 patients), both
// tabular models in both packing modes, on real 128-bit parameters and
// through the wire formats: ONNX -> Compile (calibrated on the training
// patients) -> plan file round trip -> client keys -> encrypt -> server Run
// -> decrypt. Latency mode sends one patient per request; throughput mode
// sends the whole test split in one request (a register in the slots).
// Every patient's decrypted decision (benign/malignant) must equal the
// plaintext plan's and the ONNX model's, and the probability of malignancy
// (sigmoid of bc-logreg's logit, softmax of bc-mlp's two) must be within
// 1e-4 of the plaintext one.
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

#include "circuits/slot_backend.h"
#include "compiler/lower/compile.h"
#include "compiler/onnx/importer.h"
#include "data/dataset.h"
#include "gtest/gtest.h"
#include "runtime/inference.h"
#include "runtime/plan_io.h"
#include "runtime/reference_executor.h"

namespace blindfold {
namespace {

constexpr double kMaxProbabilityError = 1e-4;

const data::Examples& Patients(data::Split split) {
  static const data::Examples* sets[2] = {nullptr, nullptr};
  const data::Examples*& s = sets[split == data::Split::kTest];
  if (s == nullptr) {
    auto e = data::LoadExamples(data::DatasetKind::kBreastCancer, "", split);
    EXPECT_TRUE(e.ok()) << e.status();
    s = new data::Examples(*std::move(e));
  }
  return *s;
}

// P(malignant) from the model's output: sigmoid of the one logit, or the
// softmax of [benign, malignant], which is the sigmoid of their difference.
double Malignancy(const std::vector<double>& y) {
  const double z = y.size() == 1 ? y[0] : y[1] - y[0];
  return 1.0 / (1.0 + std::exp(-z));
}

bool Malignant(const std::vector<double>& y) {
  return y.size() == 1 ? y[0] > 0 : y[1] > y[0];
}

struct Case {
  std::string model;
  runtime::PackingMode mode;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.model << " " << runtime::PackingModeName(c.mode);
}

class TabularInferenceTest : public ::testing::TestWithParam<Case> {};

TEST_P(TabularInferenceTest, WholeTestSplitAgreesWithPlaintext) {
  const Case& c = GetParam();
  const bool batched = c.mode == runtime::PackingMode::kThroughput;
  const std::string path = std::string(BLINDFOLD_SOURCE_DIR) + "/models/" + c.model + "/" +
                           c.model + ".onnx";
  auto g = compiler::ImportOnnxFile(path);
  ASSERT_TRUE(g.ok()) << g.status();
  const data::Examples& train = Patients(data::Split::kTrain);
  const data::Examples& test = Patients(data::Split::kTest);
  ASSERT_EQ(test.count, 142);
  std::vector<std::vector<double>> calibration;
  for (int i = 0; i < train.count; ++i) calibration.push_back(train.input(i));
  compiler::CompileOptions o;
  o.mode = c.mode;
  auto compiled = compiler::Compile(*g, calibration, o);
  ASSERT_TRUE(compiled.ok()) << compiled.status();
  const std::string bytes = runtime::SerializePlan(*compiled);
  auto plan = runtime::DeserializePlan(bytes);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->terms[0].dim, 30);
  if (batched) {
    EXPECT_TRUE(plan->Rotations().empty());
  }

  auto client = runtime::InferenceClient::Create(*plan);
  ASSERT_TRUE(client.ok()) << client.status();
  auto evk = (*client)->EvaluationKeys();
  ASSERT_TRUE(evk.ok()) << evk.status();
  auto server = runtime::InferenceServer::Create(*plan, *evk);
  ASSERT_TRUE(server.ok()) << server.status();

  std::vector<std::vector<double>> xs;
  for (int i = 0; i < test.count; ++i) xs.push_back(test.input(i));

  // Encrypted outputs: one request per patient, or one for all of them.
  std::vector<std::vector<double>> enc;
  runtime::RunStats stats;
  size_t in_bytes = 0;
  double server_seconds = 0;
  if (batched) {
    ASSERT_GE(plan->slots, test.count);
    auto ct = (*client)->EncryptBatch(xs);
    ASSERT_TRUE(ct.ok()) << ct.status();
    auto out = (*server)->Run(*ct, &stats);
    ASSERT_TRUE(out.ok()) << out.status();
    auto ys = (*client)->DecryptBatch(*out, test.count);
    ASSERT_TRUE(ys.ok()) << ys.status();
    enc = *std::move(ys);
    in_bytes = ct->size();
    server_seconds = stats.seconds;
  } else {
    for (const auto& x : xs) {
      auto ct = (*client)->EncryptInput(x);
      ASSERT_TRUE(ct.ok()) << ct.status();
      auto out = (*server)->Run(*ct, &stats);
      ASSERT_TRUE(out.ok()) << out.status();
      auto y = (*client)->DecryptOutput(*out);
      ASSERT_TRUE(y.ok()) << y.status();
      enc.push_back(*std::move(y));
      in_bytes = ct->size();
      server_seconds += stats.seconds;
    }
  }
  ASSERT_EQ(enc.size(), xs.size());

  // The plan in float64 on exact values: the batched executor over one slot
  // vector per input element (throughput), or the packed slot vector.
  std::vector<std::vector<double>> plain(xs.size());
  if (batched) {
    std::vector<std::vector<double>> columns(30, std::vector<double>(xs.size()));
    for (size_t i = 0; i < xs.size(); ++i) {
      for (int e = 0; e < 30; ++e) columns[e][i] = xs[i][e];
    }
    circuits::SlotBackend slots(static_cast<int64_t>(xs.size()));
    const auto out = runtime::ExecutePlanBatched(slots, *plan, std::move(columns));
    for (size_t i = 0; i < xs.size(); ++i) {
      for (const auto& o : out) plain[i].push_back(o[i]);
    }
  } else {
    circuits::SlotBackend slots(plan->slots);
    for (size_t i = 0; i < xs.size(); ++i) {
      const auto y = runtime::ExecutePlan(
          slots, *plan,
          circuits::Tile(runtime::LaidOut(xs[i], plan->terms[0].layout, plan->terms[0].period),
                         plan->terms[0].period, plan->slots));
      plain[i] = runtime::Gathered(y, plan->output.layout, plan->output.dim);
    }
  }

  int agree = 0, agree_model = 0, correct = 0;
  double max_logit_err = 0, max_prob_err = 0, max_model_err = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    auto want = runtime::RunReference(
        *g, compiler::ir::Tensor{g->value(g->inputs()[0]).shape, xs[i]});
    ASSERT_TRUE(want.ok()) << want.status();
    ASSERT_EQ(enc[i].size(), want->data.size());
    for (size_t k = 0; k < enc[i].size(); ++k) {
      max_logit_err = std::max(max_logit_err, std::abs(enc[i][k] - plain[i][k]));
      max_model_err = std::max(max_model_err, std::abs(plain[i][k] - want->data[k]));
    }
    max_prob_err = std::max(max_prob_err, std::abs(Malignancy(enc[i]) - Malignancy(plain[i])));
    agree += Malignant(enc[i]) == Malignant(plain[i]);
    agree_model += Malignant(enc[i]) == Malignant(want->data);
    correct += Malignant(enc[i]) == (test.labels[i] == 1);
  }
  std::printf(
      "%s %s: N=2^%d, depth %d, %lld slots; %d/%d agree with the plan (%d with the ONNX "
      "model), %d correct; max |logit error| %.3g, max |P(malignant) error| %.3g, plan vs "
      "ONNX %.3g; server %.2f ms for %d patients; input %zu B per request\n",
      c.model.c_str(), runtime::PackingModeName(c.mode), plan->params.log_n, plan->depth,
      static_cast<long long>(plan->slots), agree, test.count, agree_model, correct,
      max_logit_err, max_prob_err, max_model_err, server_seconds * 1e3, test.count, in_bytes);
  EXPECT_EQ(agree, test.count);
  EXPECT_EQ(agree_model, test.count);
  EXPECT_LE(max_prob_err, kMaxProbabilityError);
  // Polynomial models: the plan is the ONNX model up to float64 rounding.
  EXPECT_LE(max_model_err, 1e-9);
}

INSTANTIATE_TEST_SUITE_P(
    Models, TabularInferenceTest,
    ::testing::Values(Case{"bc-logreg", runtime::PackingMode::kLatency},
                      Case{"bc-logreg", runtime::PackingMode::kThroughput},
                      Case{"bc-mlp", runtime::PackingMode::kLatency},
                      Case{"bc-mlp", runtime::PackingMode::kThroughput}),
    [](const auto& info) {
      std::string s = info.param.model + "_" + runtime::PackingModeName(info.param.mode);
      for (char& ch : s) ch = ch == '-' ? '_' : ch;
      return s;
    });

}  // namespace
}  // namespace blindfold
