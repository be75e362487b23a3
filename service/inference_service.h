// File: service/inference_service.h
// The blindfold.v1.Inference service (proto/blindfold/v1/inference.proto)
// over the sync gRPC API. Every call: authenticate (bearer token, or the
// fixed id "anonymous" on a server started without tokens), check the
// request's fields (service/request_decoding.h), then do the work; HE work
// (running a plan, validating uploaded keys) is admitted by the bounded work
// queue, waited for no longer than the call's deadline or the server's
// request timeout, and runs on the call's own thread. Each call ends with one log line and its metrics.
#ifndef BLINDFOLD_SERVICE_INFERENCE_SERVICE_H_
#define BLINDFOLD_SERVICE_INFERENCE_SERVICE_H_

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "proto/blindfold/v1/inference.grpc.pb.h"
#include "service/auth.h"
#include "service/key_cache.h"
#include "service/key_store.h"
#include "service/metrics.h"
#include "service/model_registry.h"
#include "service/work_queue.h"

namespace blindfold::service {

struct ServiceLimits {
  int64_t max_key_bytes = int64_t{512} << 20;
  int64_t max_ciphertext_bytes = int64_t{16} << 20;
  std::chrono::milliseconds request_timeout{30000};
  int max_concurrent_uploads = 4;
  // How long a cached key may be used before the store is asked again
  // whether it still exists (a deletion through another replica).
  std::chrono::milliseconds key_recheck{10000};
};

// The service's metric families (docs/service.md, "Metrics").
struct ServiceMetrics {
  explicit ServiceMetrics(Registry* r);
  Histogram* latency;         // {method, model}
  Counter* requests;          // {method, code}
  Gauge* in_flight;           // {method}
  Counter* queue_rejections;  // {method}
  Counter* key_cache_hits;
  Counter* key_cache_misses;
  Counter* bytes_in;   // {method}
  Counter* bytes_out;  // {method}
};

class InferenceService final : public blindfold::v1::Inference::Service {
 public:
  // `auth` nullptr: no authentication (every caller is "anonymous").
  InferenceService(const ModelRegistry* models, KeyStore* store, KeyCache* cache,
                   WorkQueue* queue, const TokenAuthenticator* auth, ServiceMetrics* metrics,
                   ServiceLimits limits);

  // From now on new calls get UNAVAILABLE (health checks excepted: they
  // are not this service's); calls in flight go on.
  void StartDraining() { draining_ = true; }
  int active_calls() const { return active_calls_.load(); }

  grpc::Status ListModels(grpc::ServerContext* ctx, const blindfold::v1::ListModelsRequest* req,
                          blindfold::v1::ListModelsResponse* resp) override;
  grpc::Status GetModel(grpc::ServerContext* ctx, const blindfold::v1::GetModelRequest* req,
                        blindfold::v1::ModelInfo* resp) override;
  grpc::Status RegisterKeys(grpc::ServerContext* ctx,
                            grpc::ServerReader<blindfold::v1::RegisterKeysRequest>* reader,
                            blindfold::v1::KeyInfo* resp) override;
  grpc::Status GetKeyInfo(grpc::ServerContext* ctx, const blindfold::v1::GetKeyInfoRequest* req,
                          blindfold::v1::KeyInfo* resp) override;
  grpc::Status DeleteKeys(grpc::ServerContext* ctx, const blindfold::v1::DeleteKeysRequest* req,
                          blindfold::v1::DeleteKeysResponse* resp) override;
  grpc::Status Infer(grpc::ServerContext* ctx, const blindfold::v1::InferRequest* req,
                     blindfold::v1::InferResponse* resp) override;
  grpc::Status InferStream(
      grpc::ServerContext* ctx,
      grpc::ServerReaderWriter<blindfold::v1::InferResponse, blindfold::v1::InferRequest>*
          stream) override;

 private:
  class Call;
  absl::StatusOr<std::string> Identify(grpc::ServerContext* ctx) const;
  absl::StatusOr<const Model*> FindModel(const std::string& name) const;
  // The caller's keys for `model` (nullptr: any model), from the cache or
  // the store. PermissionDenied for another client's key.
  absl::StatusOr<std::shared_ptr<const LoadedKeys>> FindKeys(const std::string& client,
                                                             const std::string& key_id,
                                                             const Model* model);
  // Runs `work` on this thread once the work queue admits it (waiting no
  // longer than the call's deadline or the request timeout); the errors of
  // WorkQueue::Run, named for `method`.
  template <typename T>
  absl::StatusOr<T> RunQueued(grpc::ServerContext* ctx, const char* method,
                              std::function<absl::StatusOr<T>()> work, double* queue_seconds);
  absl::StatusOr<KeyRecord> OwnRecord(grpc::ServerContext* ctx, const std::string& key_id,
                                      Call& call);
  absl::StatusOr<blindfold::v1::InferResponse> InferOne(grpc::ServerContext* ctx,
                                                        const std::string& client,
                                                        const blindfold::v1::InferRequest& req,
                                                        Call& call);

  const ModelRegistry* models_;
  KeyStore* store_;
  KeyCache* cache_;
  WorkQueue* queue_;
  const TokenAuthenticator* auth_;
  ServiceMetrics* metrics_;
  const ServiceLimits limits_;
  std::atomic<int> uploads_{0};
  std::atomic<bool> draining_{false};
  std::atomic<int> active_calls_{0};
};

// absl::Status to grpc::Status (the codes coincide).
grpc::Status ToGrpc(const absl::Status& s);

}  // namespace blindfold::service

#endif  // BLINDFOLD_SERVICE_INFERENCE_SERVICE_H_
