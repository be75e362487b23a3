// File: tests/encrypted_inference_test.cc
// The whole latency-mode path on real 128-bit parameters: ONNX -> lowering
// -> packed plan -> keys for exactly the plan's rotations -> encrypt one
// test image -> execute the plan on the ciphertext -> decrypt. The
// decrypted logits must agree with the float64 reference executor (same
// top-1 class, small max |logit error|).
#include <cmath>
#include <cstdio>
#include <string>

#include "circuits/ckks_backend.h"
#include "ckks/encoder.h"
#include "ckks/encryptor.h"
#include "ckks/evaluator.h"
#include "ckks/keys.h"
#include "ckks/parameters.h"
#include "compiler/lower/lower.h"
#include "compiler/lower/pack.h"
#include "compiler/onnx/importer.h"
#include "data/fashion_mnist.h"
#include "gtest/gtest.h"
#include "runtime/plan.h"
#include "runtime/reference_executor.h"

namespace blindfold {
namespace {

struct Case {
  std::string model;
  ckks::Preset preset;
  int images;
};

class EncryptedInferenceTest : public ::testing::TestWithParam<Case> {};

TEST_P(EncryptedInferenceTest, AgreesWithReferenceExecutor) {
  const Case& c = GetParam();
  const std::string path = std::string(BLINDFOLD_SOURCE_DIR) + "/models/" +
                           c.model + "/" + c.model + ".onnx";
  auto g = compiler::ImportOnnxFile(path);
  ASSERT_TRUE(g.ok()) << g.status();
  auto program = compiler::Lower(*g);
  ASSERT_TRUE(program.ok()) << program.status();
  auto params = ckks::Parameters::Create(ckks::PresetLiteral(c.preset));
  ASSERT_TRUE(params.ok()) << params.status();
  auto plan = compiler::PackLatency(*program, (*params)->max_slots());
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_LE(plan->depth, (*params)->max_level());

  ckks::KeyGenerator keygen(*params);
  ckks::SecretKey sk = keygen.GenSecretKey();
  auto keys = std::make_shared<ckks::EvaluationKeys>();
  keys->relin = keygen.GenRelinKey(sk);
  const std::vector<int64_t> steps = plan->Rotations();
  const std::vector<int> rotations(steps.begin(), steps.end());
  keys->galois = keygen.GenGaloisKeys(sk, rotations, false);
  ckks::Encoder encoder(*params);
  ckks::Encryptor encryptor(*params, sk);
  ckks::Decryptor decryptor(*params, sk);
  ckks::Evaluator evaluator(*params, keys);

  auto test = data::LoadFashionMnist(std::string(data::kDefaultFashionMnistDir),
                                     data::Split::kTest);
  ASSERT_TRUE(test.ok()) << test.status();
  double max_err = 0;
  int agree = 0;
  for (int i = 0; i < c.images; ++i) {
    const auto x = test->Preprocessed(i);
    auto want = runtime::RunReference(
        *g, compiler::ir::Tensor{g->value(g->inputs()[0]).shape, x});
    ASSERT_TRUE(want.ok());
    ckks::Plaintext pt;
    ASSERT_TRUE(encoder
                    .Encode(circuits::Tile(x, plan->terms[0].period, plan->slots),
                            plan->slots, plan->depth, (*params)->default_scale(), &pt)
                    .ok());
    auto ct = encryptor.EncryptNew(pt);
    ASSERT_TRUE(ct.ok()) << ct.status();
    circuits::CkksBackend backend(evaluator, encoder, plan->depth,
                                  (*params)->default_scale(), plan->slots);
    const ckks::Ciphertext out = runtime::ExecutePlan(backend, *plan, *ct);
    ASSERT_TRUE(backend.status().ok()) << backend.status();
    EXPECT_EQ(out.level(), 0);
    auto dec = decryptor.DecryptNew(out);
    ASSERT_TRUE(dec.ok()) << dec.status();
    auto y = encoder.Decode(*dec);
    ASSERT_TRUE(y.ok());
    int arg_enc = 0, arg_ref = 0;
    for (int k = 0; k < plan->output.dim; ++k) {
      max_err = std::max(max_err, std::abs((*y)[k] - want->data[k]));
      if ((*y)[k] > (*y)[arg_enc]) arg_enc = k;
      if (want->data[k] > want->data[arg_ref]) arg_ref = k;
    }
    agree += arg_enc == arg_ref;
    if (i == 0) {
      std::printf("%s: %lld rotations + %lld hoisted, %lld key switches\n",
                  c.model.c_str(), static_cast<long long>(backend.rotations),
                  static_cast<long long>(backend.hoisted_rotations),
                  static_cast<long long>(backend.key_switches));
    }
  }
  std::printf("%s: %d/%d top-1 agree, max |logit error| %.3g (log2 %.1f)\n",
              c.model.c_str(), agree, c.images, max_err, std::log2(max_err));
  EXPECT_EQ(agree, c.images);
  EXPECT_LT(max_err, 1e-3);
}

INSTANTIATE_TEST_SUITE_P(
    Models, EncryptedInferenceTest,
    ::testing::Values(Case{"logreg", ckks::Preset::kCkks128LogN13LogQP180, 4},
                      Case{"mlp", ckks::Preset::kCkks128LogN14LogQP430, 2},
                      Case{"cnn", ckks::Preset::kCkks128LogN14LogQP430, 2}),
    [](const auto& info) {
      std::string s = info.param.model;
      for (char& ch : s) ch = ch == '-' ? '_' : ch;
      return s;
    });

}  // namespace
}  // namespace blindfold
