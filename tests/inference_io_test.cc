// File: tests/inference_io_test.cc
// Every byte string the inference API accepts, fed bad bytes: the secret-key
// file, the evaluation-key file, a latency input, a throughput batch and a
// result. Each must be refused with an error that names what was wrong —
// never a crash, never a wrong answer.
#include <string>

#include "ckks/evaluator.h"
#include "ckks/serialization.h"
#include "compiler/lower/compile.h"
#include "compiler/onnx/importer.h"
#include "data/fashion_mnist.h"
#include "gtest/gtest.h"
#include "runtime/inference.h"

namespace blindfold {
namespace {

runtime::Plan Compile(const std::string& model, runtime::PackingMode mode) {
  auto g = compiler::ImportOnnxFile(std::string(BLINDFOLD_SOURCE_DIR) + "/models/" + model +
                                    "/" + model + ".onnx");
  EXPECT_TRUE(g.ok()) << g.status();
  auto train = data::LoadFashionMnist(std::string(data::kDefaultFashionMnistDir),
                                      data::Split::kTrain);
  EXPECT_TRUE(train.ok());
  std::vector<std::vector<double>> cal;
  for (int i = 0; i < 32; ++i) cal.push_back(train->Preprocessed(i));
  compiler::CompileOptions o;
  o.mode = mode;
  auto p = compiler::Compile(*g, cal, o);
  EXPECT_TRUE(p.ok()) << p.status();
  return *p;
}

struct Fixture {
  runtime::Plan plan;
  std::unique_ptr<runtime::InferenceClient> client;
  std::string evk;
  std::unique_ptr<runtime::InferenceServer> server;
};

Fixture& Latency() {
  static Fixture* f = [] {
    auto* x = new Fixture;
    x->plan = Compile("mlp", runtime::PackingMode::kLatency);
    x->client = *runtime::InferenceClient::Create(x->plan);
    x->evk = *x->client->EvaluationKeys();
    x->server = *runtime::InferenceServer::Create(x->plan, x->evk);
    return x;
  }();
  return *f;
}

std::string Message(const absl::Status& s) { return std::string(s.message()); }

TEST(InferenceIoTest, SecretKeyFileRejectsEveryDamage) {
  Fixture& f = Latency();
  const std::string sk = f.client->SecretKeyFile();
  ASSERT_TRUE(runtime::InferenceClient::FromSecretKeyFile(f.plan, sk).ok());
  for (size_t n = 0; n < sk.size(); ++n) {
    EXPECT_FALSE(runtime::InferenceClient::FromSecretKeyFile(f.plan, sk.substr(0, n)).ok()) << n;
  }
  EXPECT_FALSE(runtime::InferenceClient::FromSecretKeyFile(f.plan, sk + "x").ok());
  std::string bad = sk;
  bad[0] ^= 1;
  EXPECT_NE(Message(runtime::InferenceClient::FromSecretKeyFile(f.plan, bad).status())
                .find("not a Blindfold secret-key file"),
            std::string::npos);
  // A key for other parameters (a throughput plan of another model).
  const runtime::Plan other = Compile("logreg", runtime::PackingMode::kLatency);
  EXPECT_NE(Message(runtime::InferenceClient::FromSecretKeyFile(other, sk).status())
                .find("key is for parameters"),
            std::string::npos);
}

TEST(InferenceIoTest, EvaluationKeyFileRejectsDamageAndMissingKeys) {
  Fixture& f = Latency();
  for (size_t n : {size_t{0}, size_t{8}, size_t{16}, size_t{24}, f.evk.size() / 2,
                   f.evk.size() - 1}) {
    EXPECT_FALSE(runtime::InferenceServer::Create(f.plan, f.evk.substr(0, n)).ok()) << n;
  }
  EXPECT_FALSE(runtime::InferenceServer::Create(f.plan, f.evk + "x").ok());
  std::string magic = f.evk;
  magic[2] ^= 1;
  EXPECT_NE(Message(runtime::InferenceServer::Create(f.plan, magic).status())
                .find("not a Blindfold evaluation-key file"),
            std::string::npos);
  std::string length = f.evk;
  length[15] = static_cast<char>(0x7f);  // the relinearization key's length
  EXPECT_NE(Message(runtime::InferenceServer::Create(f.plan, length).status())
                .find("overruns"),
            std::string::npos);
  // Keys of another plan lack this plan's rotations (or its parameters).
  const runtime::Plan other = Compile("logreg", runtime::PackingMode::kLatency);
  auto other_client = runtime::InferenceClient::Create(other);
  ASSERT_TRUE(other_client.ok());
  const std::string other_evk = *(*other_client)->EvaluationKeys();
  auto s = runtime::InferenceServer::Create(f.plan, other_evk);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(Message(s.status()).find("LoadEvaluationKeys"), std::string::npos) << s.status();
}

TEST(InferenceIoTest, InputsAndResultsRejectDamage) {
  Fixture& f = Latency();
  const std::vector<double> x(f.plan.terms[0].dim, 0.5);
  const std::string ct = *f.client->EncryptInput(x);
  ASSERT_TRUE(f.server->Run(ct).ok());
  for (size_t n : {size_t{0}, size_t{10}, ct.size() / 2, ct.size() - 1}) {
    EXPECT_FALSE(f.server->Run(ct.substr(0, n)).ok()) << n;
  }
  EXPECT_FALSE(f.server->Run(ct + "x").ok());
  // Wrong length, non-finite values.
  EXPECT_FALSE(f.client->EncryptInput(std::vector<double>(3, 0.0)).ok());
  std::vector<double> nan = x;
  nan[5] = std::nan("");
  EXPECT_FALSE(f.client->EncryptInput(nan).ok());
  // A result (a compact ciphertext) is not an input.
  const std::string result = *f.server->Run(ct);
  auto again = f.server->Run(result);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(Message(again.status()).find("object type 7 (compact ciphertext), expected 3"),
            std::string::npos)
      << again.status();
  // A ciphertext of the right parameters at the wrong level.
  {
    auto params = ckks::Parameters::Create(f.plan.params);
    ASSERT_TRUE(params.ok());
    auto in = ckks::DeserializeCiphertext(**params, ct);
    ASSERT_TRUE(in.ok());
    auto ev = ckks::Evaluator::Create(
        *params, *ckks::EvaluationKeys::Create(*params, std::nullopt, {}));
    ASSERT_TRUE(ev.ok()) << ev.status();
    ckks::Ciphertext low;
    ASSERT_TRUE(ev->DropLevel(*in, 0, &low).ok());
    auto wrong = f.server->Run(*ckks::SerializeCiphertext(**params, low, false));
    ASSERT_FALSE(wrong.ok());
    EXPECT_NE(Message(wrong.status()).find("the plan takes level"), std::string::npos)
        << wrong.status();
  }
  // Results: damaged bytes are refused by the client.
  EXPECT_FALSE(f.client->DecryptOutput(result.substr(0, result.size() - 1)).ok());
  // Batches on a latency plan, and malformed batches on a throughput plan.
  EXPECT_FALSE(f.client->EncryptBatch({x}).ok());
  const runtime::Plan t = Compile("logreg", runtime::PackingMode::kThroughput);
  auto tc = runtime::InferenceClient::Create(t);
  ASSERT_TRUE(tc.ok());
  auto ts = runtime::InferenceServer::Create(t, *(*tc)->EvaluationKeys());
  ASSERT_TRUE(ts.ok()) << ts.status();
  const std::string batch = *(*tc)->EncryptBatch({std::vector<double>(784, 0.1)});
  for (size_t n : {size_t{0}, size_t{15}, size_t{16}, size_t{30}, batch.size() - 1}) {
    EXPECT_FALSE((*ts)->Run(batch.substr(0, n)).ok()) << n;
  }
  std::string many = batch;
  many[8] = static_cast<char>(0xff);  // element count
  EXPECT_FALSE((*ts)->Run(many).ok());
  EXPECT_FALSE((*tc)->DecryptBatch(batch, 0).ok());
  EXPECT_FALSE((*tc)->EncryptBatch(std::vector<std::vector<double>>(t.slots + 1,
                                    std::vector<double>(784, 0.0)))
                   .ok());
}

}  // namespace
}  // namespace blindfold
