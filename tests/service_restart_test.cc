// File: tests/service_restart_test.cc
// Keys outlive processes. Embedded store: keys registered, the server
// stopped and started again on the same data directory, the same key id
// classifies (and still belongs only to its client). Redis: two replicas
// share one redis-server; keys registered through one work through the
// other, a deletion through one reaches the other, and after redis-server
// itself is killed and restarted (append-only file on) a fresh replica
// still finds them.
// While redis is down, a replica keeps serving keys it holds in memory and
// a replica without them answers UNAVAILABLE, naming the store.
#include <filesystem>

#include "client/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/service_testing.h"

namespace blindfold::tests {
namespace {

namespace v1 = ::blindfold::v1;
using ::testing::HasSubstr;

class ServiceRestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_ / "plans");
    ASSERT_TRUE(CompilePlan("logreg", dir_ / "plans").ok());
    tokens_ = MakeTokens(dir_.path(), {"alice", "bob"});
    auto ref = Reference::Load("logreg", dir_ / "plans/logreg.plan");
    ASSERT_TRUE(ref.ok());
    ref_ = std::make_unique<Reference>(*std::move(ref));
  }

  std::unique_ptr<client::Connection> Connect(const ServerProcess& s,
                                              const std::string& who = "alice") {
    client::ConnectionOptions o;
    o.target = s.address();
    o.token = tokens_[who];
    o.max_attempts = 1;
    return *client::Connection::Open(o);
  }

  // Classifies a few images with the session; checks against the plan.
  void ExpectClassifies(client::ModelSession* s, int first = 0) {
    for (int i = first; i < first + 3; ++i) {
      const auto x = TestSet().Preprocessed(i);
      auto y = s->Infer(x);
      ASSERT_TRUE(y.ok()) << y.status();
      EXPECT_EQ(ArgMax(*y), ArgMax(ref_->Plan(x)));
    }
  }

  // The session for keys registered earlier: the secret key file and id.
  absl::StatusOr<std::unique_ptr<client::ModelSession>> Reopen(client::Connection* c,
                                                               const std::string& sk,
                                                               const std::string& id) {
    client::ModelSession::Options o;
    o.secret_key_file = sk;
    o.key_id = id;
    return client::ModelSession::Open(c, "logreg", o);
  }

  TempDir dir_;
  std::map<std::string, std::string> tokens_;
  std::unique_ptr<Reference> ref_;
};

TEST_F(ServiceRestartTest, EmbeddedStoreKeepsKeysAcrossRestarts) {
  const std::vector<std::string> flags = {"--models", dir_ / "plans", "--data-dir",
                                          dir_ / "data", "--tokens", dir_ / "tokens.txt"};
  std::string sk, id;
  {
    auto first = ServerProcess::Start(flags, dir_.path());
    ASSERT_TRUE(first.ok()) << first.status();
    auto conn = Connect(**first);
    auto s = client::ModelSession::Open(conn.get(), "logreg");
    ASSERT_TRUE(s.ok()) << s.status();
    ExpectClassifies(s->get());
    sk = (*s)->SecretKeyFile();
    id = (*s)->key_id();
    auto rc = (*first)->Stop();
    ASSERT_TRUE(rc.ok() && *rc == 0) << (*first)->Log();
  }
  auto second = ServerProcess::Start(flags, dir_.path());
  ASSERT_TRUE(second.ok()) << second.status();
  auto conn = Connect(**second);
  auto s = Reopen(conn.get(), sk, id);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)->key_id(), id);
  ExpectClassifies(s->get(), 10);
  // Loaded from the store, not from memory.
  auto m = HttpGet((*second)->metrics_port(), "/metrics");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(MetricValue(m->second, "blindfold_key_cache_misses_total"), 1);
  // Still alice's only.
  auto bob = Connect(**second, "bob");
  EXPECT_EQ(bob->GetKeyInfo(id).status().code(), absl::StatusCode::kPermissionDenied);
  // The database file is the server's alone.
  const auto perms = std::filesystem::status(dir_ / "data/keys.sqlite3").permissions();
  EXPECT_EQ(perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all),
            std::filesystem::perms::none);
}

TEST_F(ServiceRestartTest, RedisSharesKeysAcrossReplicasAndRestarts) {
  std::filesystem::create_directories(dir_ / "redis");
  auto redis = RedisProcess::Start(dir_ / "redis");
  ASSERT_TRUE(redis.ok()) << redis.status();
  const int redis_port = (*redis)->port();
  // Replicas ask the store again after 0 s whether a cached key still exists.
  const std::vector<std::string> flags = {"--models", dir_ / "plans", "--key-store", "redis",
                                          "--redis", (*redis)->address(), "--tokens",
                                          dir_ / "tokens.txt", "--key-recheck-seconds", "0"};
  auto a = ServerProcess::Start(flags, dir_.path());
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = ServerProcess::Start(flags, dir_.path());
  ASSERT_TRUE(b.ok()) << b.status();
  auto conn_a = Connect(**a);
  auto conn_b = Connect(**b);
  auto on_a = client::ModelSession::Open(conn_a.get(), "logreg");
  ASSERT_TRUE(on_a.ok()) << on_a.status();
  const std::string sk = (*on_a)->SecretKeyFile(), id = (*on_a)->key_id();
  // Registered through A, used through B.
  auto on_b = Reopen(conn_b.get(), sk, id);
  ASSERT_TRUE(on_b.ok()) << on_b.status();
  ExpectClassifies(on_b->get());

  // Redis dies (SIGKILL: no shutdown save) and restarts; its append-only
  // file (fsync always) brings the keys back.
  (*redis)->Kill();
  // Meanwhile: A holds the keys in memory and keeps serving them; a new
  // replica C cannot load them and says why.
  ExpectClassifies(on_a->get(), 20);
  {
    auto c = ServerProcess::Start(flags, dir_.path());
    EXPECT_FALSE(c.ok()) << "a replica started without its key store";
  }
  redis->reset();
  auto again = RedisProcess::Start(dir_ / "redis", redis_port);
  ASSERT_TRUE(again.ok()) << again.status();
  auto c = ServerProcess::Start(flags, dir_.path());
  ASSERT_TRUE(c.ok()) << c.status();
  auto conn_c = Connect(**c);
  auto on_c = Reopen(conn_c.get(), sk, id);
  ASSERT_TRUE(on_c.ok()) << on_c.status();
  ExpectClassifies(on_c->get(), 30);
  // A reconnects by itself.
  ExpectClassifies(on_a->get(), 40);

  // Deleted through C: gone for A and B too.
  ASSERT_TRUE(conn_c->DeleteKeys(id).ok());
  for (client::ModelSession* s : {on_a->get(), on_b->get()}) {
    auto y = s->Infer(TestSet().Preprocessed(0));
    EXPECT_EQ(y.status().code(), absl::StatusCode::kNotFound) << y.status();
  }
  // And redis down for a replica that must load: UNAVAILABLE, naming redis.
  auto on_b2 = client::ModelSession::Open(conn_b.get(), "logreg");
  ASSERT_TRUE(on_b2.ok()) << on_b2.status();
  ASSERT_TRUE((*again)->Stop().ok());
  auto conn_c2 = Connect(**c);
  auto y = conn_c2->Infer([&] {
    v1::InferRequest r;
    r.set_model("logreg");
    r.set_key_id((*on_b2)->key_id());
    r.set_ciphertext(*(*on_b2)->crypto().EncryptInput(TestSet().Preprocessed(0)));
    return r;
  }());
  EXPECT_EQ(y.status().code(), absl::StatusCode::kUnavailable) << y.status();
  EXPECT_THAT(std::string(y.status().message()), HasSubstr("redis"));
}

}  // namespace
}  // namespace blindfold::tests
