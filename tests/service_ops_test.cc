// File: tests/service_ops_test.cc
// What operators rely on, against a real server: the grpc.health.v1
// service, server reflection, Prometheus metrics (counters that match the
// calls made, histograms, the exposition format), the bounded work queue
// (excess calls get RESOURCE_EXHAUSTED at once, none is lost or
// corrupted, and the client's retries then get every one through), and the
// graceful drain on SIGTERM (calls in flight finish, then the process exits
// 0).
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <sstream>
#include <regex>
#include <thread>

#include "client/client.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/service_testing.h"

namespace blindfold::tests {
namespace {

namespace v1 = ::blindfold::v1;
using ::testing::HasSubstr;

class ServiceOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_ / "plans");
    for (const char* m : {"logreg", "cnn-small"}) {
      ASSERT_TRUE(CompilePlan(m, dir_ / "plans").ok()) << m;
    }
    tokens_ = MakeTokens(dir_.path(), {"alice"});
  }

  std::unique_ptr<ServerProcess> Start(std::vector<std::string> flags = {}) {
    std::vector<std::string> all = {"--models", dir_ / "plans", "--data-dir", dir_ / "data",
                                    "--tokens", dir_ / "tokens.txt"};
    all.insert(all.end(), flags.begin(), flags.end());
    auto s = ServerProcess::Start(all, dir_.path());
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : nullptr;
  }

  std::unique_ptr<client::Connection> Connect(const ServerProcess& s, int attempts = 1) {
    client::ConnectionOptions o;
    o.target = s.address();
    o.token = tokens_["alice"];
    o.max_attempts = attempts;
    o.initial_backoff = std::chrono::milliseconds(50);
    return *client::Connection::Open(o);
  }

  TempDir dir_;
  std::map<std::string, std::string> tokens_;
};

TEST_F(ServiceOpsTest, HealthService) {
  auto server = Start();
  ASSERT_NE(server, nullptr);
  auto channel = grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials());
  auto health = grpc::health::v1::Health::NewStub(channel);
  for (const char* service : {"", "blindfold.v1.Inference"}) {
    grpc::ClientContext ctx;
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(service);
    grpc::health::v1::HealthCheckResponse resp;
    ASSERT_TRUE(health->Check(&ctx, req, &resp).ok()) << service;
    EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING) << service;
  }
  grpc::ClientContext ctx;
  grpc::health::v1::HealthCheckRequest req;
  req.set_service("no.such.Service");
  grpc::health::v1::HealthCheckResponse resp;
  EXPECT_EQ(health->Check(&ctx, req, &resp).error_code(), grpc::StatusCode::NOT_FOUND);
  // Health needs no token: load balancers probe it.
  auto conn = Connect(*server);
  auto serving = conn->Serving();
  ASSERT_TRUE(serving.ok()) << serving.status();
  EXPECT_TRUE(*serving);
}

TEST_F(ServiceOpsTest, ServerReflection) {
  auto server = Start();
  ASSERT_NE(server, nullptr);
  auto channel = grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials());
  auto stub = grpc::reflection::v1alpha::ServerReflection::NewStub(channel);
  grpc::ClientContext ctx;
  auto stream = stub->ServerReflectionInfo(&ctx);
  grpc::reflection::v1alpha::ServerReflectionRequest req;
  req.set_list_services("");
  ASSERT_TRUE(stream->Write(req));
  grpc::reflection::v1alpha::ServerReflectionResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  std::vector<std::string> services;
  for (const auto& s : resp.list_services_response().service()) services.push_back(s.name());
  EXPECT_THAT(services, ::testing::IsSupersetOf({"blindfold.v1.Inference",
                                                  "grpc.health.v1.Health"}));
  // The service's descriptor, for tools such as grpcurl.
  req.set_file_containing_symbol("blindfold.v1.Inference");
  ASSERT_TRUE(stream->Write(req));
  ASSERT_TRUE(stream->Read(&resp));
  ASSERT_GT(resp.file_descriptor_response().file_descriptor_proto_size(), 0);
  EXPECT_THAT(resp.file_descriptor_response().file_descriptor_proto(0), HasSubstr("InferRequest"));
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(ServiceOpsTest, MetricsCountWhatHappened) {
  auto server = Start();
  ASSERT_NE(server, nullptr);
  auto conn = Connect(*server);
  auto session = client::ModelSession::Open(conn.get(), "logreg");
  ASSERT_TRUE(session.ok()) << session.status();
  constexpr int kCalls = 7;
  size_t request_bytes = 0;
  for (int i = 0; i < kCalls; ++i) {
    client::InferTiming t;
    ASSERT_TRUE((*session)->Infer(TestSet().Preprocessed(i), &t).ok());
    request_bytes += t.request_bytes;
  }
  v1::InferRequest bad;
  bad.set_model("logreg");
  bad.set_key_id((*session)->key_id());
  bad.set_ciphertext("garbage");
  EXPECT_FALSE(conn->Infer(bad).ok());
  auto r = HttpGet(server->metrics_port(), "/metrics");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->first, 200);
  const std::string& m = r->second;
  // Every line is a comment or "name{labels} value".
  const std::regex sample(R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"]*",?)*\})? [-+0-9.eEInfNa]+$)");
  std::istringstream in(m);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) continue;
    EXPECT_TRUE(std::regex_match(line, sample)) << line;
  }
  EXPECT_EQ(MetricValue(m, R"(blindfold_requests_total{method="Infer",code="OK"})"), kCalls);
  EXPECT_EQ(MetricValue(m, R"(blindfold_requests_total{method="Infer",code="INVALID_ARGUMENT"})"), 1);
  EXPECT_EQ(MetricValue(m, R"(blindfold_requests_total{method="RegisterKeys",code="OK"})"), 1);
  EXPECT_EQ(MetricValue(m, R"(blindfold_request_duration_seconds_count{method="Infer",model="logreg"})"),
            kCalls + 1);
  EXPECT_EQ(MetricValue(m, R"(blindfold_request_duration_seconds_bucket{method="Infer",model="logreg",le="+Inf"})"),
            kCalls + 1);
  EXPECT_GT(MetricValue(m, R"(blindfold_request_duration_seconds_sum{method="Infer",model="logreg"})"), 0);
  EXPECT_EQ(MetricValue(m, "blindfold_key_cache_hits_total"), kCalls + 1);
  EXPECT_EQ(MetricValue(m, "blindfold_key_cache_misses_total"), 0);
  EXPECT_EQ(MetricValue(m, "blindfold_key_cache_entries"), 1);
  EXPECT_EQ(MetricValue(m, R"(blindfold_received_bytes_total{method="Infer"})"),
            static_cast<double>(request_bytes + 7));
  EXPECT_GT(MetricValue(m, R"(blindfold_received_bytes_total{method="RegisterKeys"})"), 1e6);
  EXPECT_GT(MetricValue(m, R"(blindfold_sent_bytes_total{method="Infer"})"), 0);
  EXPECT_EQ(MetricValue(m, R"(blindfold_requests_in_flight{method="Infer"})"), 0);
  EXPECT_EQ(MetricValue(m, "blindfold_queue_depth"), 0);
  EXPECT_GT(MetricValue(m, "process_resident_memory_bytes"), 1e6);
  auto h = HttpGet(server->metrics_port(), "/healthz");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->first, 200);
  auto nf = HttpGet(server->metrics_port(), "/secrets");
  ASSERT_TRUE(nf.ok());
  EXPECT_EQ(nf->first, 404);
}

TEST_F(ServiceOpsTest, FullQueueRejectsAtOnceAndLosesNothing) {
  // One worker, two places in the queue; cnn-small takes tens of ms.
  auto server = Start({"--workers", "1", "--queue", "2"});
  ASSERT_NE(server, nullptr);
  auto conn = Connect(*server);
  auto session = client::ModelSession::Open(conn.get(), "cnn-small");
  ASSERT_TRUE(session.ok()) << session.status();
  auto ref = Reference::Load("cnn-small", dir_ / "plans/cnn-small.plan");
  ASSERT_TRUE(ref.ok());
  constexpr int kCalls = 24;
  std::vector<v1::InferRequest> reqs(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    reqs[i].set_model("cnn-small");
    reqs[i].set_key_id((*session)->key_id());
    reqs[i].set_request_id(std::to_string(i));
    reqs[i].set_ciphertext(*(*session)->crypto().EncryptInput(TestSet().Preprocessed(i)));
  }
  auto fire = [&](client::Connection* c, std::vector<absl::StatusOr<v1::InferResponse>>* out) {
    std::vector<std::thread> threads;
    out->assign(kCalls, absl::UnknownError("not sent"));
    for (int i = 0; i < kCalls; ++i) {
      threads.emplace_back([&, i] { (*out)[i] = c->Infer(reqs[i]); });
    }
    for (auto& t : threads) t.join();
  };
  auto check = [&](const absl::StatusOr<v1::InferResponse>& r, int i) {
    EXPECT_EQ(r->request_id(), std::to_string(i));
    auto y = (*session)->crypto().DecryptOutput(r->ciphertext());
    ASSERT_TRUE(y.ok()) << y.status();
    EXPECT_EQ(ArgMax(*y), ArgMax(ref->Plan(TestSet().Preprocessed(i)))) << "image " << i;
  };
  std::vector<absl::StatusOr<v1::InferResponse>> results;
  fire(conn.get(), &results);
  int ok = 0, rejected = 0;
  for (int i = 0; i < kCalls; ++i) {
    if (results[i].ok()) {
      ++ok;
      check(results[i], i);
    } else {
      EXPECT_EQ(results[i].status().code(), absl::StatusCode::kResourceExhausted)
          << results[i].status();
      EXPECT_THAT(std::string(results[i].status().message()), HasSubstr("work queue is full"));
      ++rejected;
    }
  }
  std::printf("queue bound: %d of %d calls ran, %d got RESOURCE_EXHAUSTED\n", ok, kCalls,
              rejected);
  EXPECT_EQ(ok + rejected, kCalls);
  EXPECT_GE(ok, 3);  // the worker's and the queue's
  EXPECT_GT(rejected, 0);
  auto m = HttpGet(server->metrics_port(), "/metrics");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(MetricValue(m->second, R"(blindfold_queue_rejections_total{method="Infer"})"), rejected);
  EXPECT_EQ(MetricValue(m->second, R"(blindfold_requests_total{method="Infer",code="OK"})"), ok);

  // The rejections are marked retryable: with retries, every call gets
  // through, each with its own correct answer.
  auto patient = Connect(*server, /*attempts=*/30);
  fire(patient.get(), &results);
  for (int i = 0; i < kCalls; ++i) {
    ASSERT_TRUE(results[i].ok()) << i << ": " << results[i].status();
    check(results[i], i);
  }
  EXPECT_GT(patient->retries(), 0);
}

TEST_F(ServiceOpsTest, SigtermDrainsCallsInFlight) {
  auto server = Start({"--workers", "1", "--queue", "16", "--drain-seconds", "60"});
  ASSERT_NE(server, nullptr);
  auto conn = Connect(*server);
  auto session = client::ModelSession::Open(conn.get(), "cnn-small");
  ASSERT_TRUE(session.ok()) << session.status();
  auto ref = Reference::Load("cnn-small", dir_ / "plans/cnn-small.plan");
  ASSERT_TRUE(ref.ok());
  constexpr int kCalls = 8;
  std::vector<absl::StatusOr<std::vector<double>>> ys(kCalls, absl::UnknownError("not run"));
  std::atomic<int> started{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kCalls; ++i) {
    threads.emplace_back([&, i] {
      ++started;
      ys[i] = (*session)->Infer(TestSet().Preprocessed(i));
    });
  }
  // Wait until the server holds every call, then ask it to stop.
  for (int tries = 0; tries < 500; ++tries) {
    auto m = HttpGet(server->metrics_port(), "/metrics");
    if (m.ok() &&
        MetricValue(m->second, R"(blindfold_requests_in_flight{method="Infer"})") >= kCalls) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  server->process().Signal(SIGTERM);
  for (auto& t : threads) t.join();
  for (int i = 0; i < kCalls; ++i) {
    ASSERT_TRUE(ys[i].ok()) << "call " << i << " was dropped by the drain: " << ys[i].status();
    EXPECT_EQ(ArgMax(*ys[i]), ArgMax(ref->Plan(TestSet().Preprocessed(i))));
  }
  auto rc = server->process().Wait(60);
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(*rc, 0);
  const std::string log = server->Log();
  EXPECT_THAT(log, HasSubstr(R"("event":"signal","signal":"SIGTERM")"));
  EXPECT_THAT(log, HasSubstr(R"("event":"draining")"));
  EXPECT_THAT(log, HasSubstr(R"("event":"drained")"));
  // Gone: new calls find nobody.
  EXPECT_EQ(Connect(*server)->ListModels().status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace blindfold::tests
