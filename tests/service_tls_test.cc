// File: tests/service_tls_test.cc
// TLS on the gRPC port with certificates made by openssl for this test: a
// client that trusts the test CA classifies; a plaintext client, a client
// trusting another CA and a client expecting another server name are
// refused at the handshake. Then the `blindfold infer` binary itself over
// TLS, with its token from the environment, on a few test images.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "client/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/service_testing.h"

namespace blindfold::tests {
namespace {

using ::testing::HasSubstr;

class ServiceTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_ / "plans");
    ASSERT_TRUE(CompilePlan("logreg", dir_ / "plans").ok());
    ASSERT_TRUE(MakeTlsFiles(dir_.path()).ok()) << "openssl failed, see " << dir_ / "openssl.log";
    tokens_ = MakeTokens(dir_.path(), {"alice"});
    auto s = ServerProcess::Start({"--models", dir_ / "plans", "--data-dir", dir_ / "data",
                                   "--tokens", dir_ / "tokens.txt", "--tls-cert",
                                   dir_ / "server.pem", "--tls-key", dir_ / "server.key"},
                                  dir_.path());
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
  }

  client::ConnectionOptions Options() {
    client::ConnectionOptions o;
    o.target = server_->address();
    o.token = tokens_["alice"];
    o.max_attempts = 1;
    o.timeout = std::chrono::seconds(20);
    return o;
  }

  TempDir dir_;
  std::map<std::string, std::string> tokens_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(ServiceTlsTest, TrustedCaClassifies) {
  client::ConnectionOptions o = Options();
  o.tls_ca_file = dir_ / "ca.pem";
  auto conn = client::Connection::Open(o);
  ASSERT_TRUE(conn.ok());
  auto session = client::ModelSession::Open(conn->get(), "logreg");
  ASSERT_TRUE(session.ok()) << session.status();
  auto ref = Reference::Load("logreg", dir_ / "plans/logreg.plan");
  ASSERT_TRUE(ref.ok());
  for (int i = 0; i < 5; ++i) {
    const auto x = TestSet().Preprocessed(i);
    auto y = (*session)->Infer(x);
    ASSERT_TRUE(y.ok()) << y.status();
    EXPECT_EQ(ArgMax(*y), ArgMax(ref->Plan(x)));
  }
  // The certificate names localhost as well as 127.0.0.1.
  o.target = "localhost:" + std::to_string(server_->port());
  auto by_name = client::Connection::Open(o);
  ASSERT_TRUE(by_name.ok());
  EXPECT_TRUE((*by_name)->ListModels().ok());
}

TEST_F(ServiceTlsTest, PlaintextClientIsRefused) {
  auto conn = client::Connection::Open(Options());
  ASSERT_TRUE(conn.ok());
  auto r = (*conn)->ListModels();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(server_->address()));
}

TEST_F(ServiceTlsTest, UntrustedCaIsRefused) {
  client::ConnectionOptions o = Options();
  o.tls_ca_file = dir_ / "other-ca.pem";
  auto conn = client::Connection::Open(o);
  ASSERT_TRUE(conn.ok());
  EXPECT_EQ((*conn)->ListModels().status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(ServiceTlsTest, WrongServerNameIsRefused) {
  client::ConnectionOptions o = Options();
  o.tls_ca_file = dir_ / "ca.pem";
  o.tls_server_name = "blindfold.example.com";
  auto conn = client::Connection::Open(o);
  ASSERT_TRUE(conn.ok());
  EXPECT_EQ((*conn)->ListModels().status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(ServiceTlsTest, InferCommandOverTls) {
  const std::string out = dir_ / "infer.json";
  const std::string cmd = "BLINDFOLD_TOKEN=" + tokens_["alice"] + " " + BlindfoldBinary() +
                          " infer --server " + server_->address() + " --tls-ca " +
                          dir_ / "ca.pem" + " --model logreg --images 5 --first 10 --key-dir " +
                          dir_ / "keys" + " --json > " + out + " 2>" + dir_ / "infer.err";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream in(out);
  const auto j = nlohmann::json::parse(in, nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["images"], 5);
  ASSERT_EQ(j["results"].size(), 5u);
  auto ref = Reference::Load("logreg", dir_ / "plans/logreg.plan");
  ASSERT_TRUE(ref.ok());
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(j["results"][i]["class"].get<int>(),
              ArgMax(ref->Plan(TestSet().Preprocessed(10 + i))));
  }
  // The second run reuses the kept secret key and key id: no upload.
  const std::string key_id = j["key_id"];
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream in2(out);
  const auto j2 = nlohmann::json::parse(in2, nullptr, false);
  EXPECT_EQ(j2["key_id"], key_id);
  EXPECT_EQ(std::filesystem::status(dir_ / "keys").permissions() & std::filesystem::perms::others_all,
            std::filesystem::perms::none);
}

TEST_F(ServiceTlsTest, InferCommandOverADirectoryOfImages) {
  // Three 28x28 PGMs and one raw file, from test images 40..43.
  std::filesystem::create_directories(dir_ / "images");
  const auto& test = TestSet();
  for (int i = 0; i < 4; ++i) {
    const std::string pixels(reinterpret_cast<const char*>(test.pixels.data()) + (40 + i) * 784,
                             784);
    std::ofstream f(dir_ / "images/" + std::to_string(i) + (i < 3 ? ".pgm" : ".raw"),
                    std::ios::binary);
    if (i < 3) f << "P5\n# test image " << 40 + i << "\n28 28\n255\n";
    f << pixels;
  }
  const std::string out = dir_ / "dir.json";
  const std::string cmd = "BLINDFOLD_TOKEN=" + tokens_["alice"] + " " + BlindfoldBinary() +
                          " infer --server " + server_->address() + " --tls-ca " +
                          dir_ / "ca.pem" + " --model logreg --dir " + dir_ / "images" +
                          " --fresh-keys --json > " + out + " 2>" + dir_ / "dir.err";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream in(out);
  const auto j = nlohmann::json::parse(in, nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  ASSERT_EQ(j["results"].size(), 4u);
  auto ref = Reference::Load("logreg", dir_ / "plans/logreg.plan");
  ASSERT_TRUE(ref.ok());
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(j["results"][i]["input"], std::to_string(i) + (i < 3 ? ".pgm" : ".raw"));
    EXPECT_EQ(j["results"][i]["class"].get<int>(),
              ArgMax(ref->Plan(test.Preprocessed(40 + i))));
  }
}

}  // namespace
}  // namespace blindfold::tests
