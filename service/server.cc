// File: service/server.cc
#include "service/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>

#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "base/thread_pool.h"
#include "service/auth.h"
#include "service/http_server.h"
#include "service/inference_service.h"
#include "service/key_cache.h"
#include "service/key_store.h"
#include "service/log.h"
#include "service/metrics.h"
#include "service/model_registry.h"
#include "service/work_queue.h"

namespace blindfold::service {
namespace {

constexpr char kServiceName[] = "blindfold.v1.Inference";

absl::StatusOr<std::string> ReadText(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in.good()) return absl::NotFoundError(absl::StrCat("cannot open ", what, " ", path));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

struct Server::State {
  ServerOptions options;
  ModelRegistry models;
  std::unique_ptr<KeyStore> store;
  std::unique_ptr<KeyCache> cache;
  std::unique_ptr<WorkQueue> queue;
  std::unique_ptr<TokenAuthenticator> auth;
  Registry registry;
  std::unique_ptr<ServiceMetrics> metrics;
  std::unique_ptr<InferenceService> service;
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<MetricsHttpServer> http;
  int port = 0;
  std::atomic<bool> draining{false};
  std::once_flag drained;
};

Server::Server(std::unique_ptr<State> s) : s_(std::move(s)) {}

Server::~Server() {
  if (s_ != nullptr) Drain();
}

int Server::port() const { return s_->port; }
int Server::metrics_port() const { return s_->http ? s_->http->port() : 0; }

absl::Status ValidateOptions(const ServerOptions& o) {
  auto bad = [](auto&&... a) { return absl::InvalidArgumentError(absl::StrCat(a...)); };
  if (o.models_dir.empty()) return bad("--models: give the directory of .plan files");
  if (o.key_store != "sqlite" && o.key_store != "redis") {
    return bad("--key-store is '", o.key_store, "', expected sqlite or redis");
  }
  if (o.tokens_file.empty() && !o.allow_unauthenticated) {
    return bad("--tokens FILE is required (or --allow-unauthenticated, for a trusted "
               "network only)");
  }
  if (!o.tokens_file.empty() && o.allow_unauthenticated) {
    return bad("--tokens and --allow-unauthenticated exclude each other");
  }
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    return bad("--tls-cert and --tls-key go together");
  }
  if (o.workers < 1 || o.workers > 256) return bad("--workers is ", o.workers, ", expected 1..256");
  if (o.queue < 0 || o.queue > 100000) return bad("--queue is ", o.queue, ", expected 0..100000");
  if (o.max_message_mb < 1 || o.max_message_mb > 2047) {
    return bad("--max-message-mb is ", o.max_message_mb, ", expected 1..2047");
  }
  if (o.max_key_mb < 1 || o.max_key_mb > (int64_t{1} << 20)) {
    return bad("--max-key-mb is ", o.max_key_mb, ", expected >= 1");
  }
  if (o.max_uploads < 1) return bad("--max-uploads is ", o.max_uploads, ", expected >= 1");
  if (o.key_cache_mb < 0) return bad("--key-cache-mb is ", o.key_cache_mb, ", expected >= 0");
  if (o.plaintext_cache_mb < 0) {
    return bad("--plaintext-cache-mb is ", o.plaintext_cache_mb, ", expected >= 0");
  }
  if (!(o.request_timeout_seconds > 0)) return bad("--request-timeout must be > 0");
  if (!(o.drain_seconds >= 0)) return bad("--drain-seconds must be >= 0");
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const ServerOptions& o) {
  BF_RETURN_IF_ERROR(ValidateOptions(o));
  auto s = std::make_unique<State>();
  s->options = o;
  BF_ASSIGN_OR_RETURN(s->models, ModelRegistry::LoadDirectory(
                                     o.models_dir, static_cast<size_t>(o.plaintext_cache_mb)
                                                       << 20));
  if (o.key_store == "redis") {
    BF_ASSIGN_OR_RETURN(s->store, OpenRedisKeyStore(o.redis, o.redis_password, o.redis_prefix));
  } else {
    BF_ASSIGN_OR_RETURN(s->store, OpenSqliteKeyStore(o.data_dir));
  }
  if (!o.tokens_file.empty()) {
    BF_ASSIGN_OR_RETURN(TokenAuthenticator a, TokenAuthenticator::FromFile(o.tokens_file));
    s->auth = std::make_unique<TokenAuthenticator>(std::move(a));
  }
  s->cache = std::make_unique<KeyCache>(static_cast<size_t>(o.key_cache_mb) << 20);
  s->queue = std::make_unique<WorkQueue>(o.workers, o.queue);
  s->metrics = std::make_unique<ServiceMetrics>(&s->registry);
  State* st = s.get();
  s->registry.AddCallbackGauge("blindfold_queue_depth", "Requests waiting for a worker.",
                               [st] { return static_cast<double>(st->queue->depth()); });
  s->registry.AddCallbackGauge("blindfold_queue_running", "Requests a worker is running.",
                               [st] { return static_cast<double>(st->queue->running()); });
  s->registry.AddCallbackGauge("blindfold_queue_capacity",
                               "Requests that may wait before RESOURCE_EXHAUSTED.",
                               [st] { return static_cast<double>(st->queue->capacity()); });
  s->registry.AddCallbackGauge("blindfold_key_cache_bytes",
                               "Estimated memory of parsed keys held in the cache.",
                               [st] { return static_cast<double>(st->cache->bytes()); });
  s->registry.AddCallbackGauge("blindfold_key_cache_entries", "Key sets held in the cache.",
                               [st] { return static_cast<double>(st->cache->entries()); });
  s->registry.AddCallbackGauge("blindfold_models", "Models served.", [st] {
    return static_cast<double>(st->models.models().size());
  });
  s->registry.AddCallbackGauge("process_resident_memory_bytes",
                               "Resident memory of the server process.",
                               [] { return ResidentMemoryBytes(); });
  s->registry.AddCallbackGauge("blindfold_draining", "1 once the server drains.",
                               [st] { return st->draining ? 1.0 : 0.0; });

  ServiceLimits limits;
  limits.max_key_bytes = o.max_key_mb << 20;
  // A ciphertext travels inside one message.
  limits.max_ciphertext_bytes = o.max_message_mb << 20;
  limits.request_timeout =
      std::chrono::milliseconds(static_cast<int64_t>(o.request_timeout_seconds * 1e3));
  limits.max_concurrent_uploads = o.max_uploads;
  limits.key_recheck = std::chrono::milliseconds(int64_t{o.key_recheck_seconds} * 1000);
  s->service = std::make_unique<InferenceService>(&s->models, s->store.get(), s->cache.get(),
                                                  s->queue.get(), s->auth.get(),
                                                  s->metrics.get(), limits);

  std::shared_ptr<grpc::ServerCredentials> creds;
  if (!o.tls_cert.empty()) {
    BF_ASSIGN_OR_RETURN(std::string cert, ReadText(o.tls_cert, "--tls-cert"));
    BF_ASSIGN_OR_RETURN(std::string key, ReadText(o.tls_key, "--tls-key"));
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({key, cert});
    creds = grpc::SslServerCredentials(ssl);
  } else {
    creds = grpc::InsecureServerCredentials();
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(o.listen, creds, &s->port);
  builder.RegisterService(s->service.get());
  const int max_message = static_cast<int>(o.max_message_mb << 20);
  builder.SetMaxReceiveMessageSize(max_message);
  builder.SetMaxSendMessageSize(max_message);
  // Handler threads: those waiting in the queue, running, uploading, and a
  // margin for cheap calls (health, metadata) and for bursts the full queue
  // rejects (each holds a thread for the moment its rejection takes). Past
  // the bound gRPC itself answers RESOURCE_EXHAUSTED ("Server Threadpool
  // Exhausted", retried by clients like a full queue) without our message
  // or metric; with a 16-thread margin a burst of 24 calls at --queue 2
  // reached it under load in CI.
  grpc::ResourceQuota quota("blindfold");
  quota.SetMaxThreads(o.queue + o.workers + o.max_uploads + 64);
  builder.SetResourceQuota(quota);
  s->server = builder.BuildAndStart();
  if (s->server == nullptr || s->port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", o.listen));
  }
  s->server->GetHealthCheckService()->SetServingStatus(kServiceName, true);
  s->server->GetHealthCheckService()->SetServingStatus("", true);

  if (!o.metrics_listen.empty()) {
    const size_t colon = o.metrics_listen.rfind(':');
    int mport = -1;
    if (colon == std::string::npos ||
        !absl::SimpleAtoi(o.metrics_listen.substr(colon + 1), &mport) || mport < 0 ||
        mport > 65535) {
      s->server->Shutdown();
      return absl::InvalidArgumentError(
          absl::StrCat("--metrics-listen is '", o.metrics_listen, "', expected HOST:PORT"));
    }
    std::string host = o.metrics_listen.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    auto http = MetricsHttpServer::Start(
        host, mport, [st] { return st->registry.Render(); }, [st] { return !st->draining; });
    if (!http.ok()) {
      s->server->Shutdown();
      return http.status();
    }
    s->http = *std::move(http);
  }

  LogLine line("info", "serving");
  line.Add("listen", o.listen)
      .Add("port", s->port)
      .Add("tls", !o.tls_cert.empty())
      .Add("auth", s->auth ? "bearer-tokens" : "none")
      .Add("clients", static_cast<int64_t>(s->auth ? s->auth->size() : 0))
      .Add("models", s->models.Names())
      .Add("key_store", s->store->Describe())
      .Add("key_cache_mb", o.key_cache_mb)
      .Add("workers", o.workers)
      .Add("queue", o.queue)
      .Add("threads", ThreadCount());
  if (s->http) line.Add("metrics_port", s->http->port());
  if (s->auth && o.tls_cert.empty()) {
    LogLine("warning", "tokens_without_tls")
        .Add("detail", "bearer tokens travel in clear text without --tls-cert; use TLS "
                       "outside loopback");
  }
  return std::unique_ptr<Server>(new Server(std::move(s)));
}

void Server::Drain() {
  std::call_once(s_->drained, [this] {
    s_->draining = true;
    LogLine("info", "draining")
        .Add("in_queue", s_->queue->depth())
        .Add("running", s_->queue->running())
        .Add("drain_seconds", s_->options.drain_seconds);
    s_->server->GetHealthCheckService()->SetServingStatus(false);
    // Calls arriving from now on get UNAVAILABLE; those in flight finish.
    // (gRPC's own Shutdown would also wait for idle client connections to
    // go away, which takes seconds; so the service counts its calls and
    // the gRPC server is shut down once they are done.)
    s_->service->StartDraining();
    const auto end = std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(static_cast<int64_t>(s_->options.drain_seconds * 1e3));
    while (s_->service->active_calls() > 0 && std::chrono::steady_clock::now() < end) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const int left = s_->service->active_calls();
    s_->server->Shutdown(std::chrono::system_clock::now());
    s_->queue->Shutdown();
    LogLine("info", "drained").Add("cancelled_calls", left);
  });
}

void Server::Wait() { s_->server->Wait(); }

}  // namespace blindfold::service
