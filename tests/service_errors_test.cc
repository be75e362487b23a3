// File: tests/service_errors_test.cc
// Bad input at every entry of a real server, each answered with the right
// gRPC status and a message that names what was wrong, and the server
// still serving afterwards (health SERVING and a correct prediction):
// malformed, truncated and oversized ciphertexts and keys, keys for other
// parameters, unknown models, another client's key id, missing and wrong
// tokens, requests past their deadline. Then the server's log: one JSON
// object per line, no token and no ciphertext or key bytes in it.
#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/escaping.h"
#include "client/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "proto/blindfold/v1/inference.grpc.pb.h"
#include "tests/service_testing.h"

namespace blindfold::tests {
namespace {

namespace v1 = ::blindfold::v1;
using ::testing::HasSubstr;

class ServiceErrorsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    std::filesystem::create_directories(*dir_ / "plans");
    for (const char* m : {"logreg", "cnn-small"}) {
      ASSERT_TRUE(CompilePlan(m, *dir_ / "plans").ok()) << m;
    }
    tokens_ = new std::map<std::string, std::string>(MakeTokens(dir_->path(), {"alice", "bob"}));
    auto s = ServerProcess::Start({"--models", *dir_ / "plans", "--data-dir", *dir_ / "data",
                                   "--tokens", *dir_ / "tokens.txt", "--max-message-mb", "2",
                                   "--max-key-mb", "64"},
                                  dir_->path());
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = s->release();
    alice_ = Connect("alice").release();
    auto logreg = client::ModelSession::Open(alice_, "logreg");
    ASSERT_TRUE(logreg.ok()) << logreg.status();
    logreg_ = logreg->release();
    auto small = client::ModelSession::Open(alice_, "cnn-small");
    ASSERT_TRUE(small.ok()) << small.status();
    small_ = small->release();
  }
  static void TearDownTestSuite() {
    delete small_;
    delete logreg_;
    delete alice_;
    delete server_;
    delete tokens_;
    delete dir_;
  }

  static std::unique_ptr<client::Connection> Connect(const std::string& who,
                                                     int attempts = 1) {
    client::ConnectionOptions o;
    o.target = server_->address();
    o.token = who.empty() ? "" : (tokens_->count(who) ? tokens_->at(who) : who);
    o.max_attempts = attempts;
    return *client::Connection::Open(o);
  }

  // A raw stub, for requests the client library would never send.
  static std::unique_ptr<v1::Inference::Stub> Stub() {
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(64 << 20);
    return v1::Inference::NewStub(grpc::CreateCustomChannel(
        server_->address(), grpc::InsecureChannelCredentials(), args));
  }
  static void Authorize(grpc::ClientContext* ctx, const std::string& who = "alice") {
    ctx->AddMetadata("authorization", "Bearer " + tokens_->at(who));
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  }

  static v1::InferRequest Request(client::ModelSession* s, std::string ciphertext) {
    v1::InferRequest r;
    r.set_model(s->info().name());
    r.set_key_id(s->key_id());
    r.set_ciphertext(std::move(ciphertext));
    return r;
  }

  static std::string ValidCiphertext(client::ModelSession* s, int image = 0) {
    return *s->crypto().EncryptInput(TestSet().Preprocessed(image));
  }

  // The server still answers health checks and classifies correctly.
  static void ExpectStillServing() {
    auto serving = alice_->Serving();
    ASSERT_TRUE(serving.ok()) << serving.status();
    EXPECT_TRUE(*serving);
    static int image = 0;
    const auto x = TestSet().Preprocessed(image++ % 100);
    auto y = logreg_->Infer(x);
    ASSERT_TRUE(y.ok()) << y.status();
    auto ref = Reference::Load("logreg", *dir_ / "plans/logreg.plan");
    ASSERT_TRUE(ref.ok());
    EXPECT_EQ(ArgMax(*y), ArgMax(ref->Plan(x)));
  }

  // Sends a RegisterKeys stream of `msgs` as alice.
  static grpc::Status RawRegister(const std::vector<v1::RegisterKeysRequest>& msgs) {
    auto stub = Stub();
    grpc::ClientContext ctx;
    Authorize(&ctx);
    v1::KeyInfo info;
    auto w = stub->RegisterKeys(&ctx, &info);
    for (const auto& m : msgs) {
      if (!w->Write(m)) break;
    }
    w->WritesDone();
    return w->Finish();
  }
  static std::vector<v1::RegisterKeysRequest> Upload(const std::string& model,
                                                     const std::string& keys,
                                                     int64_t announced = -1) {
    std::vector<v1::RegisterKeysRequest> msgs(1);
    msgs[0].mutable_header()->set_model(model);
    msgs[0].mutable_header()->set_total_bytes(announced >= 0 ? announced
                                                             : static_cast<int64_t>(keys.size()));
    for (size_t at = 0; at < keys.size(); at += 1 << 20) {
      v1::RegisterKeysRequest c;
      c.set_chunk(keys.substr(at, 1 << 20));
      msgs.push_back(std::move(c));
    }
    return msgs;
  }

  static TempDir* dir_;
  static std::map<std::string, std::string>* tokens_;
  static ServerProcess* server_;
  static client::Connection* alice_;
  static client::ModelSession* logreg_;
  static client::ModelSession* small_;
};

TempDir* ServiceErrorsTest::dir_ = nullptr;
std::map<std::string, std::string>* ServiceErrorsTest::tokens_ = nullptr;
ServerProcess* ServiceErrorsTest::server_ = nullptr;
client::Connection* ServiceErrorsTest::alice_ = nullptr;
client::ModelSession* ServiceErrorsTest::logreg_ = nullptr;
client::ModelSession* ServiceErrorsTest::small_ = nullptr;

#define EXPECT_STATUS(expr, want, text)                            \
  do {                                                            \
    const absl::Status s_ = (expr);                               \
    EXPECT_EQ(s_.code(), absl::StatusCode::want) << s_;           \
    EXPECT_THAT(std::string(s_.message()), HasSubstr(text)) << s_; \
  } while (0)

TEST_F(ServiceErrorsTest, MalformedCiphertext) {
  std::string junk(90000, '\x5a');
  EXPECT_STATUS(alice_->Infer(Request(logreg_, junk)).status(), kInvalidArgument,
                "the ciphertext does not fit model 'logreg'");
  EXPECT_STATUS(alice_->Infer(Request(logreg_, "")).status(), kInvalidArgument,
                "ciphertext is empty");
  // A valid ciphertext with a flipped header byte.
  std::string ct = ValidCiphertext(logreg_);
  ct[0] ^= 0x40;
  EXPECT_STATUS(alice_->Infer(Request(logreg_, ct)).status(), kInvalidArgument, "logreg");
  ExpectStillServing();
}

TEST_F(ServiceErrorsTest, TruncatedCiphertext) {
  const std::string ct = ValidCiphertext(logreg_);
  for (size_t keep : {size_t{10}, ct.size() / 2, ct.size() - 1}) {
    EXPECT_STATUS(alice_->Infer(Request(logreg_, ct.substr(0, keep))).status(), kInvalidArgument,
                  "the ciphertext does not fit model 'logreg'");
  }
  ExpectStillServing();
}

TEST_F(ServiceErrorsTest, OversizedCiphertext) {
  // Over --max-message-mb 2: gRPC refuses the message itself.
  auto r = alice_->Infer(Request(logreg_, std::string(3 << 20, '\x01')));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("larger than max"));
  // Under the limit but longer than a ciphertext: trailing bytes.
  EXPECT_STATUS(alice_->Infer(Request(logreg_, ValidCiphertext(logreg_) + "extra")).status(),
                kInvalidArgument, "the ciphertext does not fit model 'logreg'");
  ExpectStillServing();
}

TEST_F(ServiceErrorsTest, CiphertextForAnotherModel) {
  // cnn-small's input sent to logreg with logreg's keys.
  EXPECT_STATUS(alice_->Infer(Request(logreg_, ValidCiphertext(small_))).status(),
                kInvalidArgument, "the ciphertext does not fit model 'logreg'");
  // logreg's keys named for cnn-small.
  v1::InferRequest r = Request(small_, ValidCiphertext(small_));
  r.set_key_id(logreg_->key_id());
  EXPECT_STATUS(alice_->Infer(r).status(), kInvalidArgument, "are for model 'logreg'");
  ExpectStillServing();
}

TEST_F(ServiceErrorsTest, MalformedTruncatedAndOversizedKeys) {
  const std::string keys = *logreg_->crypto().EvaluationKeys();
  grpc::Status s = RawRegister(Upload("logreg", std::string(keys.size(), '\x33')));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("the keys do not fit model 'logreg'"));
  // The stream ends before the announced bytes.
  s = RawRegister(Upload("logreg", keys.substr(0, keys.size() / 2), keys.size()));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("truncated upload"));
  // Complete as announced, but the key bytes are cut short.
  s = RawRegister(Upload("logreg", keys.substr(0, keys.size() - 1000)));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("the keys do not fit model 'logreg'"));
  // More than announced.
  s = RawRegister(Upload("logreg", keys, keys.size() - 1));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("the header announced"));
  // Over --max-key-mb 64: refused from the header, before any byte.
  std::vector<v1::RegisterKeysRequest> big(1);
  big[0].mutable_header()->set_model("logreg");
  big[0].mutable_header()->set_total_bytes(int64_t{65} << 20);
  s = RawRegister(big);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("more than the server's limit"));
  // Out of order.
  std::vector<v1::RegisterKeysRequest> bad(1);
  bad[0].set_chunk("abc");
  s = RawRegister(bad);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("before the header"));
  ExpectStillServing();
}

TEST_F(ServiceErrorsTest, KeysForOtherParameters) {
  // cnn-small's keys (other primes, other rotations) offered for logreg.
  const std::string keys = *small_->crypto().EvaluationKeys();
  auto r = alice_->RegisterKeys("logreg", keys);
  EXPECT_STATUS(r.status(), kInvalidArgument, "the keys do not fit model 'logreg'");
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("parameters")) << r.status();
  ExpectStillServing();
}

TEST_F(ServiceErrorsTest, UnknownModel) {
  EXPECT_STATUS(alice_->GetModel("resnet").status(), kNotFound,
                "no model 'resnet' on this server (it serves: cnn-small, logreg)");
  v1::InferRequest r = Request(logreg_, ValidCiphertext(logreg_));
  r.set_model("resnet");
  EXPECT_STATUS(alice_->Infer(r).status(), kNotFound, "no model 'resnet'");
  EXPECT_STATUS(alice_->RegisterKeys("resnet", "x").status(), kNotFound, "no model 'resnet'");
  r.set_model("../../etc/passwd");
  EXPECT_STATUS(alice_->Infer(r).status(), kInvalidArgument, "model name is not");
  ExpectStillServing();
}

TEST_F(ServiceErrorsTest, KeyIdOfAnotherClient) {
  auto bob = Connect("bob");
  v1::InferRequest r = Request(logreg_, ValidCiphertext(logreg_));
  EXPECT_STATUS(bob->Infer(r).status(), kPermissionDenied, "belong to another client");
  EXPECT_STATUS(bob->GetKeyInfo(logreg_->key_id()).status(), kPermissionDenied,
                "belong to another client");
  EXPECT_STATUS(bob->DeleteKeys(logreg_->key_id()), kPermissionDenied,
                "belong to another client");
  // Ids that do not exist, or are not ids at all.
  r.set_key_id("0123456789abcdef0123456789abcdef");
  EXPECT_STATUS(alice_->Infer(r).status(), kNotFound, "no keys with id");
  r.set_key_id("not-an-id");
  EXPECT_STATUS(alice_->Infer(r).status(), kInvalidArgument, "key_id is not 32");
  // Alice's keys are untouched.
  auto info = alice_->GetKeyInfo(logreg_->key_id());
  ASSERT_TRUE(info.ok()) << info.status();
  ExpectStillServing();
}

TEST_F(ServiceErrorsTest, MissingOrWrongToken) {
  EXPECT_STATUS(Connect("")->ListModels().status(), kUnauthenticated, "no bearer token");
  EXPECT_STATUS(Connect("bf_0000")->ListModels().status(), kUnauthenticated,
                "unknown bearer token");
  EXPECT_STATUS(Connect("")->Infer(Request(logreg_, ValidCiphertext(logreg_))).status(),
                kUnauthenticated, "no bearer token");
  auto stub = Stub();
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Basic YWxpY2U6c2VjcmV0");
  v1::ListModelsResponse resp;
  grpc::Status s = stub->ListModels(&ctx, v1::ListModelsRequest(), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(s.error_message(), HasSubstr("not 'Bearer <token>'"));
  // A client's token with one character changed.
  std::string t = tokens_->at("alice");
  t.back() = t.back() == '0' ? '1' : '0';
  EXPECT_STATUS(Connect(t)->ListModels().status(), kUnauthenticated, "unknown bearer token");
  ExpectStillServing();
}

TEST_F(ServiceErrorsTest, PastDeadline) {
  auto stub = Stub();
  const v1::InferRequest r = Request(small_, ValidCiphertext(small_));
  {
    // Expired before it is sent.
    grpc::ClientContext ctx;
    Authorize(&ctx);
    ctx.set_deadline(std::chrono::system_clock::now() - std::chrono::seconds(1));
    v1::InferResponse resp;
    EXPECT_EQ(stub->Infer(&ctx, r, &resp).error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  {
    // Shorter than the model takes (cnn-small: tens of ms per input).
    grpc::ClientContext ctx;
    Authorize(&ctx);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(3));
    v1::InferResponse resp;
    EXPECT_EQ(stub->Infer(&ctx, r, &resp).error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  ExpectStillServing();
}

// Runs last (gtest runs tests in order of definition within a binary; ctest
// runs each alone, so it makes its own failing calls first).
TEST_F(ServiceErrorsTest, LogsCarryNoSecrets) {
  // A few failing and succeeding calls of its own.
  Connect("bf_wrong")->ListModels().IgnoreError();
  const std::string ct = ValidCiphertext(logreg_);
  alice_->Infer(Request(logreg_, ct)).IgnoreError();
  alice_->Infer(Request(logreg_, ct.substr(0, 5000))).IgnoreError();
  const std::string keys = *logreg_->crypto().EvaluationKeys();
  alice_->RegisterKeys("logreg", keys.substr(0, keys.size() - 10)).IgnoreError();
  ExpectStillServing();
  const std::string log = server_->Log();
  std::istringstream in(log);
  std::string line;
  int lines = 0, calls = 0;
  while (std::getline(in, line)) {
    ++lines;
    const auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << "not JSON: " << line;
    EXPECT_TRUE(j.contains("ts") && j.contains("level") && j.contains("event")) << line;
    EXPECT_LT(line.size(), 2000u) << line;
    calls += j["event"] == "call";
  }
  EXPECT_GT(calls, 5);
  for (const auto& [who, token] : *tokens_) {
    EXPECT_EQ(log.find(token), std::string::npos) << who << "'s token is in the log";
    EXPECT_EQ(log.find(token.substr(3, 16)), std::string::npos);
  }
  // No ciphertext or key bytes in any encoding a logger might use.
  for (const std::string& secret : {ct.substr(64, 24), keys.substr(4096, 24)}) {
    EXPECT_EQ(log.find(absl::BytesToHexString(secret)), std::string::npos);
    EXPECT_EQ(log.find(absl::Base64Escape(secret).substr(0, 24)), std::string::npos);
  }
}

}  // namespace
}  // namespace blindfold::tests
