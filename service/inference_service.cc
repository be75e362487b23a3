// File: service/inference_service.cc
#include "service/inference_service.h"

#include <condition_variable>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status.h"
#include "service/log.h"
#include "service/request_decoding.h"

namespace blindfold::service {

namespace v1 = ::blindfold::v1;
using Clock = std::chrono::steady_clock;

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             Clock::now().time_since_epoch())
      .count();
}

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

std::string CodeName(absl::StatusCode c) { return absl::StatusCodeToString(c); }

// Latency buckets from 1 ms to 2 min.
std::vector<double> LatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
}

v1::KeyInfo KeyInfoOf(const KeyRecord& rec) {
  v1::KeyInfo k;
  k.set_key_id(rec.key_id);
  k.set_model(rec.model);
  k.set_parameter_fingerprint(rec.fingerprint);
  k.set_bytes(rec.bytes);
  k.set_created_unix_seconds(rec.created_unix_seconds);
  k.set_plan_sha256(rec.plan_sha256);
  return k;
}

}  // namespace

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

ServiceMetrics::ServiceMetrics(Registry* r)
    : latency(r->AddHistogram("blindfold_request_duration_seconds",
                              "Time from a call's arrival to its status, by method and model.",
                              {"method", "model"}, LatencyBuckets())),
      requests(r->AddCounter("blindfold_requests_total",
                             "Calls finished, by method and gRPC status code.",
                             {"method", "code"})),
      in_flight(r->AddGauge("blindfold_requests_in_flight", "Calls being handled, by method.",
                            {"method"})),
      queue_rejections(r->AddCounter("blindfold_queue_rejections_total",
                                     "Calls refused with RESOURCE_EXHAUSTED because the work "
                                     "queue was full, by method.",
                                     {"method"})),
      key_cache_hits(r->AddCounter("blindfold_key_cache_hits_total",
                                   "Key lookups answered from the in-memory cache.", {})),
      key_cache_misses(r->AddCounter("blindfold_key_cache_misses_total",
                                     "Key lookups that went to the key store.", {})),
      bytes_in(r->AddCounter("blindfold_received_bytes_total",
                             "Ciphertext and key bytes received, by method.", {"method"})),
      bytes_out(r->AddCounter("blindfold_sent_bytes_total",
                              "Ciphertext bytes sent, by method.", {"method"})) {}

// One call's bookkeeping: timing, in-flight gauge, metrics and its log line.
class InferenceService::Call {
 public:
  Call(InferenceService* service, const char* method, grpc::ServerContext* ctx)
      : service_(service),
        m_(service->metrics_),
        method_(method),
        ctx_(ctx),
        start_(Clock::now()) {
    ++service_->active_calls_;
    m_->in_flight->Add({method_}, 1);
  }
  ~Call() {
    if (!finished_) Finish(absl::InternalError("call ended without a status"));
  }

  void set_client(const std::string& c) { client_ = c; }
  void set_model(const std::string& m) { model_ = m; }
  void set_key(const std::string& k) { key_ = k; }
  void AddIn(size_t b) { in_ += b; }
  void AddOut(size_t b) { out_ += b; }
  void AddTimes(double queue_s, double run_s) {
    queue_s_ += queue_s;
    run_s_ += run_s;
  }
  void CountMessage() { ++messages_; }

  grpc::Status Finish(const absl::Status& s) {
    finished_ = true;
    --service_->active_calls_;
    const double seconds = Seconds(start_);
    m_->in_flight->Add({method_}, -1);
    m_->latency->Observe({method_, model_.empty() ? "-" : model_}, seconds);
    m_->requests->Inc({method_, CodeName(s.code())});
    if (s.code() == absl::StatusCode::kResourceExhausted) m_->queue_rejections->Inc({method_});
    if (in_) m_->bytes_in->Inc({method_}, static_cast<double>(in_));
    if (out_) m_->bytes_out->Inc({method_}, static_cast<double>(out_));
    LogLine line(s.ok() ? "info" : "warning", "call");
    line.Add("method", method_)
        .Add("code", CodeName(s.code()))
        .Add("ms", seconds * 1e3)
        .Add("peer", ctx_->peer());
    if (!client_.empty()) line.Add("client", client_);
    if (!model_.empty()) line.Add("model", model_);
    if (!key_.empty()) line.Add("key_id", key_);
    if (in_) line.Add("bytes_in", static_cast<int64_t>(in_));
    if (out_) line.Add("bytes_out", static_cast<int64_t>(out_));
    if (messages_) line.Add("messages", messages_);
    if (run_s_ > 0 || queue_s_ > 0) line.Add("queue_ms", queue_s_ * 1e3).Add("run_ms", run_s_ * 1e3);
    if (!s.ok()) line.Add("error", std::string(s.message()));
    return ToGrpc(s);
  }

 private:
  InferenceService* service_;
  ServiceMetrics* m_;
  const std::string method_;
  grpc::ServerContext* ctx_;
  const Clock::time_point start_;
  std::string client_, model_, key_;
  size_t in_ = 0, out_ = 0;
  int64_t messages_ = 0;
  double queue_s_ = 0, run_s_ = 0;
  bool finished_ = false;
};

InferenceService::InferenceService(const ModelRegistry* models, KeyStore* store,
                                   KeyCache* cache, WorkQueue* queue,
                                   const TokenAuthenticator* auth, ServiceMetrics* metrics,
                                   ServiceLimits limits)
    : models_(models),
      store_(store),
      cache_(cache),
      queue_(queue),
      auth_(auth),
      metrics_(metrics),
      limits_(limits) {}

absl::StatusOr<std::string> InferenceService::Identify(grpc::ServerContext* ctx) const {
  if (draining_) {
    return absl::UnavailableError("the server is draining (shutting down); retry elsewhere");
  }
  if (auth_ == nullptr) return std::string("anonymous");
  const auto& md = ctx->client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) return auth_->Authenticate("");
  return auth_->Authenticate(std::string_view(it->second.data(), it->second.size()));
}

absl::StatusOr<const Model*> InferenceService::FindModel(const std::string& name) const {
  if (!IsValidName(name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model name is not 1 to 64 of [A-Za-z0-9._@-] (", name.size(), " bytes)"));
  }
  const Model* m = models_->Find(name);
  if (m == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no model '", name, "' on this server (it serves: ", models_->Names(), ")"));
  }
  return m;
}

absl::StatusOr<std::shared_ptr<const LoadedKeys>> InferenceService::FindKeys(
    const std::string& client, const std::string& key_id, const Model* model) {
  std::shared_ptr<const LoadedKeys> keys = cache_->Find(key_id);
  if (keys != nullptr) {
    metrics_->key_cache_hits->Inc({});
    // Deletions through another replica reach this one within key_recheck.
    if (NowMs() - keys->checked_ms.load() > limits_.key_recheck.count()) {
      absl::StatusOr<KeyRecord> r = store_->Info(key_id);
      if (r.ok()) {
        keys->checked_ms = NowMs();
      } else if (absl::IsNotFound(r.status())) {
        cache_->Erase(key_id);
        keys = nullptr;
      } else {
        LogLine("warning", "key_store_unavailable")
            .Add("store", store_->Describe())
            .Add("error", std::string(r.status().message()))
            .Add("key_id", key_id);
      }
    }
  }
  if (keys == nullptr) {
    metrics_->key_cache_misses->Inc({});
    absl::StatusOr<std::pair<KeyRecord, std::string>> got = store_->Get(key_id);
    if (absl::IsNotFound(got.status())) {
      return absl::NotFoundError(absl::StrCat(
          "no keys with id ", key_id, " (deleted, or never registered on this key store)"));
    }
    if (!got.ok()) return got.status();
    const KeyRecord& rec = got->first;
    if (rec.owner != client) {
      return absl::PermissionDeniedError(
          absl::StrCat("keys ", key_id, " belong to another client"));
    }
    const Model* m = models_->Find(rec.model);
    if (m == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "keys ", key_id, " are for model '", rec.model, "', which this server does not serve"));
    }
    if (rec.fingerprint != m->fingerprint || rec.plan_sha256 != m->plan_sha256) {
      return absl::FailedPreconditionError(absl::StrCat(
          "keys ", key_id, " were made for another build of model '", rec.model,
          "' (plan ", rec.plan_sha256.substr(0, 12), ", now ", m->plan_sha256.substr(0, 12),
          "): register new keys"));
    }
    // Stored keys were validated at registration; parse them again anyway
    // (the store is outside this process).
    absl::StatusOr<std::unique_ptr<runtime::InferenceServer>> server =
        runtime::InferenceServer::Create(m->plan, m->cache, got->second);
    if (!server.ok()) {
      return absl::DataLossError(absl::StrCat("keys ", key_id,
                                              " in the key store no longer load: ",
                                              server.status().message()));
    }
    auto loaded = std::make_shared<LoadedKeys>();
    loaded->record = rec;
    loaded->cost = 2 * got->second.size();
    loaded->server = *std::move(server);
    loaded->checked_ms = NowMs();
    keys = loaded;
    cache_->Insert(key_id, loaded);
  }
  if (keys->record.owner != client) {
    return absl::PermissionDeniedError(
        absl::StrCat("keys ", key_id, " belong to another client"));
  }
  if (model != nullptr && keys->record.model != model->name) {
    return absl::InvalidArgumentError(absl::StrCat("keys ", key_id, " are for model '",
                                                   keys->record.model, "', not '",
                                                   model->name, "'"));
  }
  return keys;
}

template <typename T>
absl::StatusOr<T> InferenceService::RunQueued(grpc::ServerContext* ctx, const char* method,
                                              std::function<absl::StatusOr<T>()> work,
                                              double* queue_seconds) {
  const auto system_deadline = ctx->deadline();
  const auto now_sys = std::chrono::system_clock::now();
  auto deadline = Clock::now() + limits_.request_timeout;
  bool client_deadline = false;
  if (system_deadline < now_sys + limits_.request_timeout) {
    deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                  system_deadline - now_sys);
    client_deadline = true;
  }
  absl::StatusOr<T> result = absl::UnknownError("not run");
  double waited = 0;
  const auto start = Clock::now();
  const absl::Status s = queue_->Run(
      [&] { result = work(); }, deadline, [ctx] { return ctx->IsCancelled(); }, &waited);
  if (queue_seconds != nullptr) *queue_seconds = waited;
  if (absl::IsDeadlineExceeded(s) || (s.ok() && Clock::now() > deadline)) {
    // A call past its deadline is cancelled too: report the deadline.
    return absl::DeadlineExceededError(absl::StrFormat(
        "%s: %s passed after %.0f ms (%s)", method,
        client_deadline ? "the call's deadline" : "the server's request timeout",
        Seconds(start) * 1e3, s.ok() ? "running" : "waiting for a worker"));
  }
  if (!s.ok()) {
    // A full queue is transient: clients may retry (client/client.cc).
    if (absl::IsResourceExhausted(s)) ctx->AddTrailingMetadata("blindfold-retryable", "1");
    return absl::Status(s.code(), absl::StrCat(method, ": ", s.message()));
  }
  return result;
}

grpc::Status InferenceService::ListModels(grpc::ServerContext* ctx,
                                          const v1::ListModelsRequest*,
                                          v1::ListModelsResponse* resp) {
  Call call(this, "ListModels", ctx);
  absl::StatusOr<std::string> client = Identify(ctx);
  if (!client.ok()) return call.Finish(client.status());
  call.set_client(*client);
  for (const Model* m : models_->models()) *resp->add_models() = m->info;
  return call.Finish(absl::OkStatus());
}

grpc::Status InferenceService::GetModel(grpc::ServerContext* ctx,
                                        const v1::GetModelRequest* req, v1::ModelInfo* resp) {
  Call call(this, "GetModel", ctx);
  absl::StatusOr<std::string> client = Identify(ctx);
  if (!client.ok()) return call.Finish(client.status());
  call.set_client(*client);
  absl::StatusOr<const Model*> m = FindModel(req->name());
  if (!m.ok()) return call.Finish(AnnotateStatus(m.status(), "GetModel"));
  call.set_model((*m)->name);
  *resp = (*m)->info;
  return call.Finish(absl::OkStatus());
}

grpc::Status InferenceService::RegisterKeys(
    grpc::ServerContext* ctx, grpc::ServerReader<v1::RegisterKeysRequest>* reader,
    v1::KeyInfo* resp) {
  Call call(this, "RegisterKeys", ctx);
  absl::StatusOr<std::string> client = Identify(ctx);
  if (!client.ok()) return call.Finish(client.status());
  call.set_client(*client);
  // Uploads hold their bytes in memory until validated: bound how many.
  if (uploads_.fetch_add(1) >= limits_.max_concurrent_uploads) {
    uploads_.fetch_sub(1);
    ctx->AddTrailingMetadata("blindfold-retryable", "1");
    return call.Finish(absl::ResourceExhaustedError(absl::StrCat(
        "RegisterKeys: ", limits_.max_concurrent_uploads,
        " key uploads in progress already; retry later")));
  }
  struct Release {
    std::atomic<int>* n;
    ~Release() { n->fetch_sub(1); }
  } release{&uploads_};

  KeyUpload upload(limits_.max_key_bytes);
  v1::RegisterKeysRequest msg;
  while (reader->Read(&msg)) {
    call.CountMessage();
    call.AddIn(msg.chunk().size());
    if (absl::Status s = upload.Add(msg); !s.ok()) return call.Finish(s);
  }
  if (ctx->IsCancelled()) {
    return call.Finish(absl::CancelledError("RegisterKeys: the call was cancelled"));
  }
  absl::StatusOr<std::string> keys = upload.Finish();
  if (!keys.ok()) return call.Finish(keys.status());
  absl::StatusOr<const Model*> model = FindModel(upload.model());
  if (!model.ok()) return call.Finish(AnnotateStatus(model.status(), "RegisterKeys"));
  const Model* m = *model;
  call.set_model(m->name);

  // Validation parses every key: HE work, so it waits its turn in the queue.
  const std::string* bytes = &*keys;
  double queue_s = 0;
  const auto run_start = Clock::now();
  absl::StatusOr<std::shared_ptr<const runtime::InferenceServer>> server =
      RunQueued<std::shared_ptr<const runtime::InferenceServer>>(
          ctx, "RegisterKeys",
          [m, bytes]() -> absl::StatusOr<std::shared_ptr<const runtime::InferenceServer>> {
            auto s = runtime::InferenceServer::Create(m->plan, m->cache, *bytes);
            if (!s.ok()) return s.status();
            return std::shared_ptr<const runtime::InferenceServer>(*std::move(s));
          },
          &queue_s);
  call.AddTimes(queue_s, Seconds(run_start) - queue_s);
  if (!server.ok()) {
    if (server.status().code() == absl::StatusCode::kInvalidArgument ||
        server.status().code() == absl::StatusCode::kFailedPrecondition) {
      return call.Finish(absl::InvalidArgumentError(
          absl::StrCat("RegisterKeys: the keys do not fit model '", m->name,
                       "': ", server.status().message())));
    }
    return call.Finish(server.status());
  }
  KeyRecord rec;
  rec.key_id = NewKeyId();
  rec.owner = *client;
  rec.model = m->name;
  rec.plan_sha256 = m->plan_sha256;
  rec.fingerprint = m->fingerprint;
  rec.bytes = static_cast<int64_t>(bytes->size());
  rec.digest = KeyDigest(*bytes);
  rec.created_unix_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count();
  if (absl::Status s = store_->Put(rec, *bytes); !s.ok()) {
    return call.Finish(AnnotateStatus(s, "RegisterKeys"));
  }
  call.set_key(rec.key_id);
  auto loaded = std::make_shared<LoadedKeys>();
  loaded->record = rec;
  loaded->cost = 2 * bytes->size();
  loaded->server = *std::move(server);
  loaded->checked_ms = NowMs();
  cache_->Insert(rec.key_id, loaded);

  *resp = KeyInfoOf(rec);
  return call.Finish(absl::OkStatus());
}

// The record of the caller's own keys `key_id`, for GetKeyInfo and
// DeleteKeys: authenticated, id checked, owner checked.
absl::StatusOr<KeyRecord> InferenceService::OwnRecord(grpc::ServerContext* ctx,
                                                      const std::string& key_id, Call& call) {
  BF_ASSIGN_OR_RETURN(std::string client, Identify(ctx));
  call.set_client(client);
  BF_RETURN_IF_ERROR(CheckKeyIdField(key_id));
  call.set_key(key_id);
  absl::StatusOr<KeyRecord> rec = store_->Info(key_id);
  if (absl::IsNotFound(rec.status())) {
    return absl::NotFoundError(absl::StrCat("no keys with id ", key_id));
  }
  if (!rec.ok()) return rec.status();
  if (rec->owner != client) {
    return absl::PermissionDeniedError(absl::StrCat("keys ", key_id, " belong to another client"));
  }
  call.set_model(rec->model);
  return rec;
}

grpc::Status InferenceService::GetKeyInfo(grpc::ServerContext* ctx,
                                          const v1::GetKeyInfoRequest* req,
                                          v1::KeyInfo* resp) {
  Call call(this, "GetKeyInfo", ctx);
  absl::StatusOr<KeyRecord> rec = OwnRecord(ctx, req->key_id(), call);
  if (!rec.ok()) return call.Finish(AnnotateStatus(rec.status(), "GetKeyInfo"));
  *resp = KeyInfoOf(*rec);
  return call.Finish(absl::OkStatus());
}

grpc::Status InferenceService::DeleteKeys(grpc::ServerContext* ctx,
                                          const v1::DeleteKeysRequest* req,
                                          v1::DeleteKeysResponse*) {
  Call call(this, "DeleteKeys", ctx);
  absl::StatusOr<KeyRecord> rec = OwnRecord(ctx, req->key_id(), call);
  if (!rec.ok()) return call.Finish(AnnotateStatus(rec.status(), "DeleteKeys"));
  cache_->Erase(req->key_id());
  return call.Finish(AnnotateStatus(store_->Delete(req->key_id()), "DeleteKeys"));
}

absl::StatusOr<v1::InferResponse> InferenceService::InferOne(grpc::ServerContext* ctx,
                                                             const std::string& client,
                                                             const v1::InferRequest& req,
                                                             Call& call) {
  call.AddIn(req.ciphertext().size());
  BF_RETURN_IF_ERROR(AnnotateStatus(CheckInferRequest(req, limits_.max_ciphertext_bytes),
                                    "Infer"));
  absl::StatusOr<const Model*> model = FindModel(req.model());
  if (!model.ok()) return AnnotateStatus(model.status(), "Infer");
  const Model* m = *model;
  call.set_model(m->name);
  call.set_key(req.key_id());
  absl::StatusOr<std::shared_ptr<const LoadedKeys>> keys = FindKeys(client, req.key_id(), m);
  if (!keys.ok()) return AnnotateStatus(keys.status(), "Infer");
  // The run happens on this thread, while `req` and the keys are held.
  const runtime::InferenceServer& server = *(*keys)->server;
  double queue_s = 0;
  const auto start = Clock::now();
  absl::StatusOr<std::string> out = RunQueued<std::string>(
      ctx, "Infer", [&server, &req]() { return server.Run(req.ciphertext()); }, &queue_s);
  const double total_s = Seconds(start);
  call.AddTimes(queue_s, total_s - queue_s);
  if (!out.ok()) {
    // The runtime's messages name what was wrong with the ciphertext.
    if (out.status().code() == absl::StatusCode::kInvalidArgument ||
        out.status().code() == absl::StatusCode::kFailedPrecondition) {
      return absl::InvalidArgumentError(
          absl::StrCat("Infer: the ciphertext does not fit model '", m->name,
                       "': ", out.status().message()));
    }
    return out.status();
  }
  v1::InferResponse resp;
  call.AddOut(out->size());
  resp.set_ciphertext(*std::move(out));
  resp.set_request_id(req.request_id());
  resp.set_server_seconds(total_s - queue_s);
  resp.set_queue_seconds(queue_s);
  return resp;
}

grpc::Status InferenceService::Infer(grpc::ServerContext* ctx, const v1::InferRequest* req,
                                     v1::InferResponse* resp) {
  Call call(this, "Infer", ctx);
  absl::StatusOr<std::string> client = Identify(ctx);
  if (!client.ok()) return call.Finish(client.status());
  call.set_client(*client);
  absl::StatusOr<v1::InferResponse> r = InferOne(ctx, *client, *req, call);
  if (!r.ok()) return call.Finish(r.status());
  *resp = *std::move(r);
  return call.Finish(absl::OkStatus());
}

grpc::Status InferenceService::InferStream(
    grpc::ServerContext* ctx,
    grpc::ServerReaderWriter<v1::InferResponse, v1::InferRequest>* stream) {
  Call call(this, "InferStream", ctx);
  absl::StatusOr<std::string> client = Identify(ctx);
  if (!client.ok()) return call.Finish(client.status());
  call.set_client(*client);
  v1::InferRequest req;
  int64_t n = 0;
  while (stream->Read(&req)) {
    call.CountMessage();
    absl::StatusOr<v1::InferResponse> r = InferOne(ctx, *client, req, call);
    if (!r.ok()) {
      return call.Finish(AnnotateStatus(r.status(), absl::StrCat("InferStream message ", n)));
    }
    if (!stream->Write(*r)) {
      return call.Finish(absl::CancelledError("InferStream: the client went away"));
    }
    ++n;
  }
  return call.Finish(absl::OkStatus());
}

}  // namespace blindfold::service
