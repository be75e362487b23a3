// File: client/client.cc
#include "client/client.h"

#include <grpcpp/grpcpp.h>

#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "ckks/parameters.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "proto/blindfold/v1/inference.grpc.pb.h"

namespace blindfold::client {

namespace v1 = ::blindfold::v1;
using Clock = std::chrono::steady_clock;

namespace {

absl::Status FromGrpc(const grpc::Status& s, const std::string& target) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = s.error_message();
  // Transport failures come from the gRPC library: say which server.
  if (s.error_code() == grpc::StatusCode::UNAVAILABLE ||
      s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    msg = absl::StrCat("server ", target, ": ", msg);
  }
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), msg);
}

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace

struct Connection::State {
  ConnectionOptions options;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Inference::Stub> stub;
  std::unique_ptr<grpc::health::v1::Health::Stub> health;
  std::atomic<int64_t> retries{0};
  std::mutex rng_mu;
  std::mt19937_64 rng{std::random_device{}()};

  void Prepare(grpc::ClientContext* ctx) const {
    ctx->set_deadline(std::chrono::system_clock::now() + options.timeout);
    if (!options.token.empty()) ctx->AddMetadata("authorization", "Bearer " + options.token);
  }

  // Runs attempt(ctx) until it succeeds, fails for good, or max_attempts
  // are spent. Retried: UNAVAILABLE, and RESOURCE_EXHAUSTED that the server
  // marks retryable (its work queue was full) or that gRPC's server answers
  // when it has no handler thread left (the call never ran).
  template <typename F>
  absl::Status WithRetries(F attempt) {
    auto backoff = options.initial_backoff;
    for (int a = 1;; ++a) {
      grpc::ClientContext ctx;
      Prepare(&ctx);
      const grpc::Status st = attempt(ctx);
      if (st.ok()) return absl::OkStatus();
      bool retryable = st.error_code() == grpc::StatusCode::UNAVAILABLE;
      if (st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
        const auto& md = ctx.GetServerTrailingMetadata();
        retryable = md.find("blindfold-retryable") != md.end() ||
                    st.error_message() == "Server Threadpool Exhausted";
      }
      if (!retryable || a >= options.max_attempts) return FromGrpc(st, options.target);
      double jitter;
      {
        std::lock_guard<std::mutex> lock(rng_mu);
        jitter = std::uniform_real_distribution<double>(0.5, 1.5)(rng);
      }
      std::this_thread::sleep_for(std::chrono::duration_cast<std::chrono::microseconds>(
          backoff * jitter));
      backoff *= 2;
      ++retries;
    }
  }
};

Connection::Connection(std::unique_ptr<State> s) : s_(std::move(s)) {}
Connection::~Connection() = default;

int64_t Connection::retries() const { return s_->retries.load(); }
const ConnectionOptions& Connection::options() const { return s_->options; }

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(const ConnectionOptions& o) {
  if (o.target.empty()) return absl::InvalidArgumentError("no server address (HOST:PORT)");
  if (o.max_attempts < 1) return absl::InvalidArgumentError("max_attempts must be >= 1");
  if (o.chunk_bytes < 1024 || o.chunk_bytes > (size_t{32} << 20)) {
    return absl::InvalidArgumentError("chunk_bytes must be in 1 KiB..32 MiB");
  }
  if (!o.lb_policy.empty() && o.lb_policy != "pick_first" && o.lb_policy != "round_robin") {
    return absl::InvalidArgumentError(
        absl::StrCat("load-balancing policy '", o.lb_policy, "': expected pick_first or round_robin"));
  }
  auto s = std::make_unique<State>();
  s->options = o;
  std::shared_ptr<grpc::ChannelCredentials> creds;
  grpc::ChannelArguments args;
  if (!o.lb_policy.empty()) args.SetLoadBalancingPolicyName(o.lb_policy);
  args.SetMaxReceiveMessageSize(o.max_message_mb << 20);
  args.SetMaxSendMessageSize(o.max_message_mb << 20);
  if (o.tls || !o.tls_ca_file.empty()) {
    grpc::SslCredentialsOptions ssl;
    if (!o.tls_ca_file.empty()) {
      std::ifstream in(o.tls_ca_file, std::ios::binary);
      if (!in.good()) {
        return absl::NotFoundError(absl::StrCat("cannot open --tls-ca ", o.tls_ca_file));
      }
      std::ostringstream pem;
      pem << in.rdbuf();
      ssl.pem_root_certs = pem.str();
    }
    creds = grpc::SslCredentials(ssl);
    if (!o.tls_server_name.empty()) args.SetSslTargetNameOverride(o.tls_server_name);
  } else {
    creds = grpc::InsecureChannelCredentials();
  }
  s->channel = grpc::CreateCustomChannel(o.target, creds, args);
  s->stub = v1::Inference::NewStub(s->channel);
  s->health = grpc::health::v1::Health::NewStub(s->channel);
  return std::unique_ptr<Connection>(new Connection(std::move(s)));
}

absl::StatusOr<std::vector<v1::ModelInfo>> Connection::ListModels() {
  v1::ListModelsResponse resp;
  BF_RETURN_IF_ERROR(s_->WithRetries([&](grpc::ClientContext& ctx) {
    return s_->stub->ListModels(&ctx, v1::ListModelsRequest(), &resp);
  }));
  return std::vector<v1::ModelInfo>(resp.models().begin(), resp.models().end());
}

absl::StatusOr<v1::ModelInfo> Connection::GetModel(const std::string& name) {
  v1::GetModelRequest req;
  req.set_name(name);
  v1::ModelInfo resp;
  BF_RETURN_IF_ERROR(s_->WithRetries(
      [&](grpc::ClientContext& ctx) { return s_->stub->GetModel(&ctx, req, &resp); }));
  return resp;
}

absl::StatusOr<v1::KeyInfo> Connection::RegisterKeys(const std::string& model,
                                                      std::string_view keys) {
  v1::KeyInfo info;
  BF_RETURN_IF_ERROR(s_->WithRetries([&](grpc::ClientContext& ctx) {
    auto writer = s_->stub->RegisterKeys(&ctx, &info);
    v1::RegisterKeysRequest m;
    m.mutable_header()->set_model(model);
    m.mutable_header()->set_total_bytes(static_cast<int64_t>(keys.size()));
    bool ok = writer->Write(m);
    for (size_t at = 0; ok && at < keys.size(); at += s_->options.chunk_bytes) {
      v1::RegisterKeysRequest c;
      c.set_chunk(std::string(keys.substr(at, s_->options.chunk_bytes)));
      ok = writer->Write(c);
    }
    writer->WritesDone();
    return writer->Finish();
  }));
  return info;
}

absl::StatusOr<v1::KeyInfo> Connection::GetKeyInfo(const std::string& key_id) {
  v1::GetKeyInfoRequest req;
  req.set_key_id(key_id);
  v1::KeyInfo resp;
  BF_RETURN_IF_ERROR(s_->WithRetries(
      [&](grpc::ClientContext& ctx) { return s_->stub->GetKeyInfo(&ctx, req, &resp); }));
  return resp;
}

absl::Status Connection::DeleteKeys(const std::string& key_id) {
  v1::DeleteKeysRequest req;
  req.set_key_id(key_id);
  v1::DeleteKeysResponse resp;
  return s_->WithRetries(
      [&](grpc::ClientContext& ctx) { return s_->stub->DeleteKeys(&ctx, req, &resp); });
}

absl::StatusOr<v1::InferResponse> Connection::Infer(const v1::InferRequest& req) {
  v1::InferResponse resp;
  BF_RETURN_IF_ERROR(s_->WithRetries(
      [&](grpc::ClientContext& ctx) { return s_->stub->Infer(&ctx, req, &resp); }));
  return resp;
}

absl::StatusOr<std::vector<v1::InferResponse>> Connection::InferStream(
    const std::vector<v1::InferRequest>& reqs) {
  grpc::ClientContext ctx;
  s_->Prepare(&ctx);
  ctx.set_deadline(std::chrono::system_clock::now() +
                   s_->options.timeout * static_cast<int64_t>(std::max<size_t>(1, reqs.size())));
  auto stream = s_->stub->InferStream(&ctx);
  std::vector<v1::InferResponse> out;
  // Writes from this thread, reads from another, so neither side's
  // flow-control window can stall the other.
  std::thread writer([&] {
    for (const auto& r : reqs) {
      if (!stream->Write(r)) break;
    }
    stream->WritesDone();
  });
  v1::InferResponse resp;
  while (stream->Read(&resp)) out.push_back(resp);
  writer.join();
  BF_RETURN_IF_ERROR(FromGrpc(stream->Finish(), s_->options.target));
  if (out.size() != reqs.size()) {
    return absl::DataLossError(absl::StrCat("InferStream: ", out.size(), " responses for ",
                                            reqs.size(), " requests"));
  }
  return out;
}

absl::StatusOr<bool> Connection::Serving(const std::string& service) {
  grpc::health::v1::HealthCheckRequest req;
  req.set_service(service);
  grpc::health::v1::HealthCheckResponse resp;
  BF_RETURN_IF_ERROR(s_->WithRetries(
      [&](grpc::ClientContext& ctx) { return s_->health->Check(&ctx, req, &resp); }));
  return resp.status() == grpc::health::v1::HealthCheckResponse::SERVING;
}

absl::StatusOr<runtime::PlanInterface> InterfaceFromModelInfo(const v1::ModelInfo& m) {
  runtime::PlanInterface i;
  i.model = m.name();
  if (m.mode() == v1::PACKING_MODE_LATENCY) {
    i.mode = runtime::PackingMode::kLatency;
  } else if (m.mode() == v1::PACKING_MODE_THROUGHPUT) {
    i.mode = runtime::PackingMode::kThroughput;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", m.name(), "': unknown packing mode ", m.mode()));
  }
  const v1::CkksParameters& p = m.parameters();
  i.params.log_n = p.log_n();
  i.params.q.assign(p.q().begin(), p.q().end());
  i.params.p.assign(p.p().begin(), p.p().end());
  i.params.log_default_scale = p.log_default_scale();
  i.input_scale_log2 = m.input_scale_log2();
  i.slots = m.slots();
  i.depth = m.depth();
  i.input_shape.assign(m.input_shape().begin(), m.input_shape().end());
  i.output_shape.assign(m.output_shape().begin(), m.output_shape().end());
  i.input_dim = m.input_dim();
  i.input_period = m.input_period();
  i.input_layout.assign(m.input_layout().begin(), m.input_layout().end());
  i.output_dim = m.output_dim();
  i.output_period = m.output_period();
  i.output_layout.assign(m.output_layout().begin(), m.output_layout().end());
  if (m.rotation_levels_size() != m.rotations_size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model '", m.name(), "': ", m.rotations_size(), " rotations but ",
        m.rotation_levels_size(), " key levels"));
  }
  for (int k = 0; k < m.rotations_size(); ++k) {
    if (!i.rotation_levels.emplace(m.rotations(k), m.rotation_levels(k)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("model '", m.name(), "': rotation ", m.rotations(k), " listed twice"));
    }
  }
  i.relin_level = m.needs_relinearization_key() ? m.relinearization_level() : -1;
  i.labels.assign(m.labels().begin(), m.labels().end());
  BF_RETURN_IF_ERROR(AnnotateStatus(runtime::ValidatePlanInterface(i),
                                    absl::StrCat("model '", m.name(), "'")));
  BF_ASSIGN_OR_RETURN(ckks::ParametersPtr params, ckks::Parameters::Create(i.params));
  if (params->fingerprint() != p.fingerprint()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model '", m.name(), "': its parameters hash to fingerprint ", params->fingerprint(),
        ", the server says ", p.fingerprint()));
  }
  return i;
}

absl::StatusOr<std::unique_ptr<ModelSession>> ModelSession::Open(Connection* connection,
                                                                 const std::string& model,
                                                                 const Options& o) {
  std::unique_ptr<ModelSession> s(new ModelSession);
  s->connection_ = connection;
  BF_ASSIGN_OR_RETURN(s->info_, connection->GetModel(model));
  if (!o.expected_plan_sha256.empty() && s->info_.plan_sha256() != o.expected_plan_sha256) {
    return absl::FailedPreconditionError(absl::StrCat(
        "model '", model, "': the server's plan is ", s->info_.plan_sha256(), ", expected ",
        o.expected_plan_sha256));
  }
  BF_ASSIGN_OR_RETURN(s->interface_, InterfaceFromModelInfo(s->info_));
  if (o.secret_key_file.empty()) {
    BF_ASSIGN_OR_RETURN(s->client_, runtime::InferenceClient::Create(s->interface_));
  } else {
    BF_ASSIGN_OR_RETURN(s->client_, runtime::InferenceClient::FromSecretKeyFile(
                                        s->interface_, o.secret_key_file));
  }
  if (!o.key_id.empty()) {
    BF_ASSIGN_OR_RETURN(v1::KeyInfo k, connection->GetKeyInfo(o.key_id));
    if (k.model() != model || k.plan_sha256() != s->info_.plan_sha256()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "keys ", o.key_id, " are for model '", k.model(), "' plan ",
          k.plan_sha256().substr(0, 12), ", not '", model, "' plan ",
          s->info_.plan_sha256().substr(0, 12)));
    }
    s->key_id_ = o.key_id;
  } else {
    BF_ASSIGN_OR_RETURN(std::string evk, s->client_->EvaluationKeys());
    BF_ASSIGN_OR_RETURN(v1::KeyInfo k, connection->RegisterKeys(model, evk));
    s->key_id_ = k.key_id();
  }
  return s;
}

absl::StatusOr<std::vector<double>> ModelSession::Infer(std::span<const double> x,
                                                        InferTiming* timing) {
  const bool batch = interface_.mode == runtime::PackingMode::kThroughput;
  auto t = Clock::now();
  v1::InferRequest req;
  req.set_model(info_.name());
  req.set_key_id(key_id_);
  if (batch) {
    BF_ASSIGN_OR_RETURN(*req.mutable_ciphertext(),
                        client_->EncryptBatch({std::vector<double>(x.begin(), x.end())}));
  } else {
    BF_ASSIGN_OR_RETURN(*req.mutable_ciphertext(), client_->EncryptInput(x));
  }
  InferTiming local;
  InferTiming& tm = timing ? *timing : local;
  tm.encrypt_seconds = Since(t);
  tm.request_bytes = req.ciphertext().size();
  t = Clock::now();
  BF_ASSIGN_OR_RETURN(v1::InferResponse resp, connection_->Infer(req));
  tm.call_seconds = Since(t);
  tm.server_seconds = resp.server_seconds();
  tm.queue_seconds = resp.queue_seconds();
  tm.response_bytes = resp.ciphertext().size();
  t = Clock::now();
  std::vector<double> y;
  if (batch) {
    BF_ASSIGN_OR_RETURN(auto ys, client_->DecryptBatch(resp.ciphertext(), 1));
    y = std::move(ys[0]);
  } else {
    BF_ASSIGN_OR_RETURN(y, client_->DecryptOutput(resp.ciphertext()));
  }
  tm.decrypt_seconds = Since(t);
  return y;
}

absl::StatusOr<std::vector<std::vector<double>>> ModelSession::InferMany(
    const std::vector<std::vector<double>>& xs) {
  std::vector<std::vector<double>> out;
  if (interface_.mode == runtime::PackingMode::kThroughput) {
    for (size_t at = 0; at < xs.size(); at += static_cast<size_t>(interface_.slots)) {
      const size_t n = std::min(xs.size() - at, static_cast<size_t>(interface_.slots));
      std::vector<std::vector<double>> part(xs.begin() + at, xs.begin() + at + n);
      v1::InferRequest req;
      req.set_model(info_.name());
      req.set_key_id(key_id_);
      BF_ASSIGN_OR_RETURN(*req.mutable_ciphertext(), client_->EncryptBatch(part));
      BF_ASSIGN_OR_RETURN(v1::InferResponse resp, connection_->Infer(req));
      BF_ASSIGN_OR_RETURN(auto ys, client_->DecryptBatch(resp.ciphertext(), static_cast<int>(n)));
      for (auto& y : ys) out.push_back(std::move(y));
    }
    return out;
  }
  std::vector<v1::InferRequest> reqs;
  for (size_t i = 0; i < xs.size(); ++i) {
    v1::InferRequest req;
    req.set_model(info_.name());
    req.set_key_id(key_id_);
    req.set_request_id(absl::StrCat(i));
    BF_ASSIGN_OR_RETURN(*req.mutable_ciphertext(), client_->EncryptInput(xs[i]));
    reqs.push_back(std::move(req));
  }
  BF_ASSIGN_OR_RETURN(std::vector<v1::InferResponse> resps, connection_->InferStream(reqs));
  for (size_t i = 0; i < resps.size(); ++i) {
    if (resps[i].request_id() != absl::StrCat(i)) {
      return absl::DataLossError(absl::StrCat("InferStream: response ", i, " answers request '",
                                              resps[i].request_id(), "'"));
    }
    BF_ASSIGN_OR_RETURN(std::vector<double> y, client_->DecryptOutput(resps[i].ciphertext()));
    out.push_back(std::move(y));
  }
  return out;
}

}  // namespace blindfold::client
