// File: tests/service_key_store_test.cc
// Both key stores through the one interface, each the real thing: SQLite in
// a temporary directory and a redis-server started for the test. Round
// trips (including key sets larger than one chunk), AlreadyExists,
// NotFound, reopening, and damage detected as DataLoss rather than
// returned as keys.
#include <hiredis/hiredis.h>
#include <sqlite3.h>

#include <filesystem>

#include "gtest/gtest.h"
#include "service/key_store.h"
#include "tests/service_testing.h"

namespace blindfold::tests {
namespace {

using service::KeyRecord;
using service::KeyStore;

KeyRecord Record(const std::string& id, const std::string& keys) {
  KeyRecord r;
  r.key_id = id;
  r.owner = "alice";
  r.model = "cnn";
  r.plan_sha256 = std::string(64, 'a');
  r.fingerprint = 0x8a2215e249867335ULL;  // above 2^63: stored as is
  r.bytes = static_cast<int64_t>(keys.size());
  r.digest = service::KeyDigest(keys);
  r.created_unix_seconds = 1700000000;
  return r;
}

std::string Bytes(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed;
  for (auto& c : s) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

class KeyStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "redis") {
      std::filesystem::create_directories(dir_ / "redis");
      auto r = RedisProcess::Start(dir_ / "redis");
      ASSERT_TRUE(r.ok()) << r.status();
      redis_ = *std::move(r);
    }
    Open();
  }
  void Open() {
    store_.reset();
    auto s = GetParam() == "redis"
                 ? service::OpenRedisKeyStore(redis_->address(), "", "test:")
                 : service::OpenSqliteKeyStore(dir_ / "data");
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = *std::move(s);
  }

  TempDir dir_;
  std::unique_ptr<RedisProcess> redis_;
  std::unique_ptr<KeyStore> store_;
};

TEST_P(KeyStoreTest, RoundTripsAcrossChunksAndReopening) {
  const std::string small = Bytes(1000, 1);
  const std::string large = Bytes(service::kKeyStoreChunkBytes * 2 + 12345, 2);
  ASSERT_TRUE(store_->Put(Record("00000000000000000000000000000001", small), small).ok());
  ASSERT_TRUE(store_->Put(Record("00000000000000000000000000000002", large), large).ok());
  Open();  // a new connection / a reopened database
  auto got = store_->Get("00000000000000000000000000000002");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->second, large);
  EXPECT_EQ(got->first.fingerprint, 0x8a2215e249867335ULL);
  EXPECT_EQ(got->first.owner, "alice");
  EXPECT_EQ(got->first.model, "cnn");
  EXPECT_EQ(got->first.created_unix_seconds, 1700000000);
  auto info = store_->Info("00000000000000000000000000000001");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->bytes, 1000);
  EXPECT_EQ(info->digest, service::KeyDigest(small));
}

TEST_P(KeyStoreTest, ExistsNotFoundAndDelete) {
  const std::string k = Bytes(5000, 3);
  const std::string id = "0000000000000000000000000000000a";
  ASSERT_TRUE(store_->Put(Record(id, k), k).ok());
  EXPECT_EQ(store_->Put(Record(id, k), k).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->Info("ffffffffffffffffffffffffffffffff").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->Get("ffffffffffffffffffffffffffffffff").status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(store_->Delete(id).ok());
  EXPECT_EQ(store_->Get(id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->Delete(id).code(), absl::StatusCode::kNotFound);
}

TEST_P(KeyStoreTest, DamageIsDataLoss) {
  const std::string k = Bytes(service::kKeyStoreChunkBytes + 100, 4);
  const std::string id = "000000000000000000000000000000bb";
  ASSERT_TRUE(store_->Put(Record(id, k), k).ok());
  // Flip bytes of the second chunk behind the store's back.
  if (GetParam() == "redis") {
    redisContext* c = redisConnect("127.0.0.1", redis_->port());
    ASSERT_TRUE(c != nullptr && !c->err);
    const std::string key = "test:key:" + id + ":chunk:1";
    auto* r = static_cast<redisReply*>(redisCommand(c, "SETRANGE %s 10 %s", key.c_str(), "XYZ"));
    freeReplyObject(r);
    redisFree(c);
  } else {
    store_.reset();
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "data/keys.sqlite3").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE key_chunks SET data = x'00112233' WHERE idx = 1",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
    Open();
  }
  auto got = store_->Get(id);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kDataLoss) << got.status();
}

INSTANTIATE_TEST_SUITE_P(Stores, KeyStoreTest, ::testing::Values("sqlite", "redis"),
                         [](const auto& info) { return info.param; });

TEST(RedisKeyStoreTest, UnreachableIsUnavailable) {
  auto s = service::OpenRedisKeyStore("127.0.0.1:" + std::to_string(FreePort()), "", "x:");
  EXPECT_EQ(s.status().code(), absl::StatusCode::kUnavailable) << s.status();
  EXPECT_EQ(service::OpenRedisKeyStore("nohostport:xyz", "", "x:").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace blindfold::tests
