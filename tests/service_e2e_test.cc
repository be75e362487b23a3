// File: tests/service_e2e_test.cc
// End to end through a real `blindfold serve` on loopback and the C++
// client: every shipped model but cnn-deep (logreg, mlp, cnn-small, cnn,
// mlp-relu; cnn-deep takes minutes per 20 images on these machines and is
// run by hand, docs/service.md), 20 test images each, half as unary Infer calls and
// half over one InferStream, with keys in the embedded SQLite store and
// then in a real redis-server. The decrypted predictions must equal the
// plan's in float64 on every image and the ONNX model's through the
// reference executor (every image for polynomial models, 18/20 for
// mlp-relu, whose ReLU is a fitted polynomial).
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "client/client.h"
#include "gtest/gtest.h"
#include "tests/service_testing.h"

namespace blindfold::tests {
namespace {

const std::vector<std::string> kModels = {"logreg", "mlp", "cnn-small", "cnn", "mlp-relu"};
constexpr int kImages = 20;

class ServiceEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    std::filesystem::create_directories(dir_ / "plans");
    for (const auto& m : kModels) ASSERT_TRUE(CompilePlan(m, dir_ / "plans").ok()) << m;
    tokens_ = MakeTokens(dir_.path(), {"alice", "bob"});
  }

  // Every model, kImages images, through `address` as alice.
  void CheckEveryModel(const std::string& address) {
    client::ConnectionOptions o;
    o.target = address;
    o.token = tokens_["alice"];
    auto conn = client::Connection::Open(o);
    ASSERT_TRUE(conn.ok()) << conn.status();
    auto listed = (*conn)->ListModels();
    ASSERT_TRUE(listed.ok()) << listed.status();
    ASSERT_EQ(listed->size(), kModels.size());
    for (const auto& m : kModels) {
      auto ref = Reference::Load(m, dir_ / "plans" + "/" + m + ".plan");
      ASSERT_TRUE(ref.ok()) << ref.status();
      auto session = client::ModelSession::Open(conn->get(), m);
      ASSERT_TRUE(session.ok()) << m << ": " << session.status();
      auto info = (*conn)->GetKeyInfo((*session)->key_id());
      ASSERT_TRUE(info.ok()) << info.status();
      EXPECT_EQ(info->model(), m);
      EXPECT_EQ(info->plan_sha256(), (*session)->info().plan_sha256());
      const auto& test = TestSet();
      std::vector<std::vector<double>> xs, ys;
      for (int i = 0; i < kImages; ++i) xs.push_back(test.Preprocessed(i));
      for (int i = 0; i < kImages / 2; ++i) {
        auto y = (*session)->Infer(xs[i]);
        ASSERT_TRUE(y.ok()) << m << " image " << i << ": " << y.status();
        ys.push_back(*y);
      }
      auto rest = (*session)->InferMany(
          std::vector<std::vector<double>>(xs.begin() + kImages / 2, xs.end()));
      ASSERT_TRUE(rest.ok()) << m << ": " << rest.status();
      ASSERT_EQ(rest->size(), static_cast<size_t>(kImages - kImages / 2));
      ys.insert(ys.end(), rest->begin(), rest->end());
      int agree_plan = 0, agree_onnx = 0;
      double max_err = 0;
      for (int i = 0; i < kImages; ++i) {
        const std::vector<double> p = ref->Plan(xs[i]);
        const std::vector<double> r = ref->Onnx(xs[i]);
        ASSERT_EQ(ys[i].size(), p.size());
        for (size_t k = 0; k < p.size(); ++k) max_err = std::max(max_err, std::abs(ys[i][k] - p[k]));
        agree_plan += ArgMax(ys[i]) == ArgMax(p);
        agree_onnx += ArgMax(ys[i]) == ArgMax(r);
      }
      std::printf("%s via %s: %d/%d agree with the plan in float64, %d/%d with the ONNX "
                  "model, max |logit error| %.3g\n",
                  m.c_str(), address.c_str(), agree_plan, kImages, agree_onnx, kImages, max_err);
      EXPECT_EQ(agree_plan, kImages) << m;
      EXPECT_LT(max_err, 0.05) << m;
      EXPECT_GE(agree_onnx, m == "mlp-relu" ? kImages * 9 / 10 : kImages) << m;
      ASSERT_TRUE((*conn)->DeleteKeys((*session)->key_id()).ok());
    }
  }

  TempDir dir_;
  std::map<std::string, std::string> tokens_;
};

TEST_F(ServiceEndToEndTest, EveryModelWithTheEmbeddedStore) {
  auto server = ServerProcess::Start({"--models", dir_ / "plans", "--data-dir", dir_ / "data",
                                      "--tokens", dir_ / "tokens.txt"},
                                     dir_.path());
  ASSERT_TRUE(server.ok()) << server.status();
  CheckEveryModel((*server)->address());
  auto rc = (*server)->Stop();
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(*rc, 0) << (*server)->Log();
}

TEST_F(ServiceEndToEndTest, EveryModelWithRedis) {
  std::filesystem::create_directories(dir_ / "redis");
  auto redis = RedisProcess::Start(dir_ / "redis");
  ASSERT_TRUE(redis.ok()) << redis.status();
  auto server = ServerProcess::Start({"--models", dir_ / "plans", "--key-store", "redis",
                                      "--redis", (*redis)->address(), "--tokens",
                                      dir_ / "tokens.txt"},
                                     dir_.path());
  ASSERT_TRUE(server.ok()) << server.status();
  CheckEveryModel((*server)->address());
  auto rc = (*server)->Stop();
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(*rc, 0) << (*server)->Log();
}

}  // namespace
}  // namespace blindfold::tests
