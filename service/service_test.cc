// File: service/service_test.cc
// The service's parts on their own: tokens, request decoding, the work
// queue, the key cache, the metrics exposition.
#include <atomic>
#include <chrono>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/auth.h"
#include "service/key_cache.h"
#include "service/metrics.h"
#include "service/request_decoding.h"
#include "service/work_queue.h"

namespace blindfold::service {
namespace {

namespace v1 = ::blindfold::v1;
using ::testing::HasSubstr;

TEST(AuthTest, TokensAreCheckedAgainstTheirHashes) {
  const std::string a = TokenAuthenticator::NewToken(), b = TokenAuthenticator::NewToken();
  EXPECT_EQ(a.size(), 3u + 64u);
  EXPECT_NE(a, b);
  const std::string file = "# clients\nalice " + TokenAuthenticator::HashHex(a) +
                           "\n\n  bob\t" + TokenAuthenticator::HashHex(b) + "  # ops\n";
  auto auth = TokenAuthenticator::Parse(file);
  ASSERT_TRUE(auth.ok()) << auth.status();
  EXPECT_EQ(auth->size(), 2u);
  EXPECT_EQ(*auth->Authenticate("Bearer " + a), "alice");
  EXPECT_EQ(*auth->Authenticate("bearer " + b), "bob");
  // The file holds no token, only hashes.
  EXPECT_EQ(file.find(a), std::string::npos);
  for (const std::string& bad : std::vector<std::string>{"", "Bearer ", "Basic " + a, a, "Bearer " + a + "x",
                                 "Bearer " + TokenAuthenticator::HashHex(a)}) {
    auto r = auth->Authenticate(bad);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated) << bad;
    EXPECT_EQ(std::string(r.status().message()).find(a), std::string::npos);
  }
}

TEST(AuthTest, TokenFileErrorsNameTheLine) {
  const std::string h = TokenAuthenticator::HashHex("x");
  EXPECT_THAT(std::string(TokenAuthenticator::Parse("alice\n").status().message()),
              HasSubstr("line 1"));
  EXPECT_THAT(std::string(TokenAuthenticator::Parse("a " + h + "\nb/c " + h).status().message()),
              HasSubstr("line 2: client id 'b/c'"));
  EXPECT_THAT(std::string(TokenAuthenticator::Parse("a bf_123").status().message()),
              HasSubstr("not 64 hex digits"));
  EXPECT_THAT(std::string(TokenAuthenticator::Parse("a " + h + "\na " + h).status().message()),
              HasSubstr("listed twice"));
  EXPECT_FALSE(TokenAuthenticator::Parse("# nothing\n").ok());
}

TEST(RequestDecodingTest, NamesAndIds) {
  EXPECT_TRUE(IsValidName("cnn-small"));
  EXPECT_TRUE(IsValidName("alice@example.com"));
  for (const char* bad : {"", ".hidden", "a/b", "a b", "é"}) EXPECT_FALSE(IsValidName(bad)) << bad;
  EXPECT_FALSE(IsValidName(std::string(65, 'a')));
  const std::string id = NewKeyId();
  EXPECT_TRUE(IsValidKeyId(id));
  EXPECT_NE(id, NewKeyId());
  EXPECT_FALSE(IsValidKeyId("ABCDEF0123456789ABCDEF0123456789"));
  v1::InferRequest r;
  r.set_model("logreg");
  r.set_key_id(id);
  r.set_ciphertext("x");
  EXPECT_TRUE(CheckInferRequest(r, 10).ok());
  r.set_ciphertext(std::string(11, 'x'));
  EXPECT_EQ(CheckInferRequest(r, 10).code(), absl::StatusCode::kResourceExhausted);
  r.set_request_id(std::string(129, 'r'));
  EXPECT_EQ(CheckInferRequest(r, 100).code(), absl::StatusCode::kInvalidArgument);
}

TEST(RequestDecodingTest, KeyUploadOrderAndSizes) {
  auto header = [](const std::string& model, int64_t n) {
    v1::RegisterKeysRequest m;
    m.mutable_header()->set_model(model);
    m.mutable_header()->set_total_bytes(n);
    return m;
  };
  auto chunk = [](const std::string& b) {
    v1::RegisterKeysRequest m;
    m.set_chunk(b);
    return m;
  };
  KeyUpload ok(100);
  ASSERT_TRUE(ok.Add(header("cnn", 6)).ok());
  ASSERT_TRUE(ok.Add(chunk("abc")).ok());
  ASSERT_TRUE(ok.Add(chunk("def")).ok());
  EXPECT_EQ(*ok.Finish(), "abcdef");
  EXPECT_EQ(ok.model(), "cnn");

  KeyUpload early(100);
  EXPECT_THAT(std::string(early.Add(chunk("a")).message()), HasSubstr("before the header"));
  KeyUpload twice(100);
  ASSERT_TRUE(twice.Add(header("cnn", 1)).ok());
  EXPECT_THAT(std::string(twice.Add(header("cnn", 1)).message()), HasSubstr("second header"));
  KeyUpload big(100);
  EXPECT_EQ(big.Add(header("cnn", 101)).code(), absl::StatusCode::kResourceExhausted);
  KeyUpload neg(100);
  EXPECT_EQ(neg.Add(header("cnn", -5)).code(), absl::StatusCode::kInvalidArgument);
  KeyUpload over(100);
  ASSERT_TRUE(over.Add(header("cnn", 2)).ok());
  EXPECT_THAT(std::string(over.Add(chunk("abc")).message()), HasSubstr("announced 2"));
  KeyUpload shortened(100);
  ASSERT_TRUE(shortened.Add(header("cnn", 4)).ok());
  ASSERT_TRUE(shortened.Add(chunk("ab")).ok());
  EXPECT_THAT(std::string(shortened.Finish().status().message()), HasSubstr("truncated"));
  KeyUpload none(100);
  EXPECT_FALSE(none.Finish().ok());
  KeyUpload empty(100);
  EXPECT_FALSE(empty.Add(v1::RegisterKeysRequest()).ok());
}

TEST(WorkQueueTest, BoundsRunningAndWaitingJobsInOrder) {
  using Clock = WorkQueue::Clock;
  const auto far = Clock::now() + std::chrono::seconds(60);
  WorkQueue q(1, 2);
  std::atomic<bool> release{false};
  std::mutex mu;
  std::vector<int> order;
  auto record = [&](int i) {
    std::lock_guard<std::mutex> lock(mu);
    order.push_back(i);
  };
  // One job holds the only worker.
  std::thread holder([&] {
    EXPECT_TRUE(q.Run([&] {
                   while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
                   record(0);
                 }, far, nullptr).ok());
  });
  while (q.running() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  // Two wait, in order; a third is refused at once.
  std::thread w1([&] { EXPECT_TRUE(q.Run([&] { record(1); }, far, nullptr).ok()); });
  while (q.depth() < 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::thread w2([&] { EXPECT_TRUE(q.Run([&] { record(2); }, far, nullptr).ok()); });
  while (q.depth() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  bool ran = false;
  absl::Status full = q.Run([&] { ran = true; }, far, nullptr);
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(full.message()), HasSubstr("work queue is full (2 requests waiting"));
  EXPECT_FALSE(ran);
  release = true;
  holder.join();
  w1.join();
  w2.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(q.running(), 0);
  EXPECT_EQ(q.depth(), 0);
}

TEST(WorkQueueTest, WaitingEndsAtTheDeadlineOrCancellationOrShutdown) {
  using Clock = WorkQueue::Clock;
  WorkQueue q(1, 4);
  std::atomic<bool> release{false};
  std::thread holder([&] {
    EXPECT_TRUE(q.Run([&] {
                   while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
                 }, Clock::now() + std::chrono::seconds(60), nullptr).ok());
  });
  while (q.running() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  bool ran = false;
  double waited = 0;
  EXPECT_EQ(q.Run([&] { ran = true; }, Clock::now() + std::chrono::milliseconds(30), nullptr,
                  &waited)
                .code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_GE(waited, 0.025);
  EXPECT_EQ(q.Run([&] { ran = true; }, Clock::now() + std::chrono::seconds(60),
                  [] { return true; })
                .code(),
            absl::StatusCode::kCancelled);
  std::thread waiter([&] {
    EXPECT_EQ(q.Run([&] { ran = true; }, Clock::now() + std::chrono::seconds(60), nullptr).code(),
              absl::StatusCode::kUnavailable);
  });
  while (q.depth() < 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  q.Shutdown();
  waiter.join();
  EXPECT_FALSE(ran);
  EXPECT_EQ(q.depth(), 0);
  release = true;
  holder.join();
  EXPECT_EQ(q.Run([] {}, Clock::now() + std::chrono::seconds(1), nullptr).code(),
            absl::StatusCode::kUnavailable);
  // No waiting room: a job runs only on a free worker.
  WorkQueue none(1, 0);
  EXPECT_TRUE(none.Run([] {}, Clock::now() + std::chrono::seconds(1), nullptr).ok());
}

TEST(KeyCacheTest, EvictsLeastRecentlyUsedByBytes) {
  KeyCache cache(100);
  auto entry = [](size_t cost) {
    auto e = std::make_shared<LoadedKeys>();
    e->cost = cost;
    return e;
  };
  cache.Insert("a", entry(40));
  cache.Insert("b", entry(40));
  ASSERT_NE(cache.Find("a"), nullptr);  // a is now the most recent
  cache.Insert("c", entry(40));         // evicts b
  EXPECT_EQ(cache.Find("b"), nullptr);
  EXPECT_NE(cache.Find("a"), nullptr);
  EXPECT_NE(cache.Find("c"), nullptr);
  EXPECT_EQ(cache.bytes(), 80u);
  cache.Insert("huge", entry(101));  // larger than the budget: not kept
  EXPECT_EQ(cache.Find("huge"), nullptr);
  EXPECT_EQ(cache.entries(), 2u);
  cache.Erase("a");
  EXPECT_EQ(cache.bytes(), 40u);
}

TEST(MetricsTest, TextExposition) {
  Registry r;
  Counter* c = r.AddCounter("requests_total", "Calls.", {"method", "code"});
  Histogram* h = r.AddHistogram("latency_seconds", "Time.", {"method"}, {0.1, 1});
  r.AddCallbackGauge("answer", "Read at scrape time.", [] { return 42.0; });
  c->Inc({"Infer", "OK"});
  c->Inc({"Infer", "OK"});
  c->Inc({"Say \"hi\"\n", "OK"});
  h->Observe({"Infer"}, 0.05);
  h->Observe({"Infer"}, 0.5);
  h->Observe({"Infer"}, 5);
  const std::string text = r.Render();
  EXPECT_THAT(text, HasSubstr("# HELP requests_total Calls.\n# TYPE requests_total counter\n"));
  EXPECT_THAT(text, HasSubstr("requests_total{method=\"Infer\",code=\"OK\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("requests_total{method=\"Say \\\"hi\\\"\\n\",code=\"OK\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("latency_seconds_bucket{method=\"Infer\",le=\"0.10000000000000001\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("latency_seconds_bucket{method=\"Infer\",le=\"1\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("latency_seconds_bucket{method=\"Infer\",le=\"+Inf\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("latency_seconds_sum{method=\"Infer\"} 5.5499999999999998\n"));
  EXPECT_THAT(text, HasSubstr("latency_seconds_count{method=\"Infer\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE answer gauge\nanswer 42\n"));
  EXPECT_GT(ResidentMemoryBytes(), 0);
}

}  // namespace
}  // namespace blindfold::service
