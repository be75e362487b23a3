// libFuzzer target: the service's request-decoding path on arbitrary bytes
// (fuzz/request_fuzz.h gives the format). What the server does with a
// call's bytes, minus the network: protobuf parsing, the field checks
// (service/request_decoding.h), the key-upload assembler, then, for a
// complete upload, the keys' validation against the model's plan
// (runtime::InferenceServer::Create: the evaluation-key container and every
// key deserializer), and for an Infer request that passes the checks, the
// server's Run on its ciphertext (deserialization, level/scale/slots
// checks, and the plan when the ciphertext is well formed). Errors are
// expected; crashes, sanitizer reports, leaks and timeouts are findings.
#include <cstdlib>
#include <memory>
#include <string>

#include "circuits/ckks_backend.h"
#include "ckks/serialization.h"
#include "fuzz/request_fuzz.h"
#include "proto/blindfold/v1/inference.pb.h"
#include "runtime/inference.h"
#include "runtime/plan_io.h"
#include "service/request_decoding.h"

namespace {

using namespace blindfold;

struct Model {
  std::shared_ptr<const runtime::Plan> plan;
  ckks::ParametersPtr params;
  std::shared_ptr<circuits::PlaintextCache> cache;
  std::unique_ptr<runtime::InferenceServer> server;  // kFuzzKeyId's keys
};

const Model& GetModel() {
  static Model* m = [] {
    auto plan = runtime::ReadPlanFile(BLINDFOLD_SOURCE_DIR "/fuzz/corpus/plan/logreg_latency");
    if (!plan.ok()) std::abort();
    auto* model = new Model;
    model->plan = std::make_shared<const runtime::Plan>(*std::move(plan));
    auto params = ckks::Parameters::Create(model->plan->params);
    if (!params.ok()) std::abort();
    model->params = *params;
    model->cache = std::make_shared<circuits::PlaintextCache>(size_t{64} << 20);
    auto client = runtime::InferenceClient::Create(*model->plan);
    if (!client.ok()) std::abort();
    auto keys = (*client)->EvaluationKeys();
    if (!keys.ok()) std::abort();
    auto server = runtime::InferenceServer::Create(model->plan, model->cache, *keys);
    if (!server.ok()) std::abort();
    model->server = *std::move(server);
    return model;
  }();
  return *m;
}

void RegisterKeys(std::string_view in) {
  service::KeyUpload upload(int64_t{64} << 20);
  while (in.size() >= 4) {
    uint32_t n = 0;
    for (int i = 0; i < 4; ++i) n |= static_cast<uint32_t>(static_cast<uint8_t>(in[i])) << (8 * i);
    in.remove_prefix(4);
    if (n > in.size()) return;
    blindfold::v1::RegisterKeysRequest m;
    if (!m.ParseFromArray(in.data(), static_cast<int>(n))) return;
    in.remove_prefix(n);
    if (!upload.Add(m).ok()) return;
  }
  absl::StatusOr<std::string> keys = upload.Finish();
  if (!keys.ok() || upload.model() != fuzz::kFuzzModel) return;
  const Model& model = GetModel();
  auto server = runtime::InferenceServer::Create(model.plan, model.cache, *keys);
  (void)server;
}

// `run`: the whole Run (decoding, the input checks, the plan: slow under
// ASan, so only for one value of the selector byte); else the ciphertext's
// deserialization, which is where Run starts.
void Infer(std::string_view in, bool run) {
  blindfold::v1::InferRequest r;
  if (!r.ParseFromArray(in.data(), static_cast<int>(in.size()))) return;
  if (!service::CheckInferRequest(r, int64_t{1} << 20).ok()) return;
  if (r.model() != fuzz::kFuzzModel || r.key_id() != fuzz::kFuzzKeyId) return;
  if (run) {
    auto out = GetModel().server->Run(r.ciphertext());
    (void)out;
  } else {
    auto ct = ckks::DeserializeCiphertext(*GetModel().params, r.ciphertext());
    (void)ct;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    Infer(in, /*run=*/data[0] == 3);
  } else {
    RegisterKeys(in);
  }
  return 0;
}
