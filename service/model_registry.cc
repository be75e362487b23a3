// File: service/model_registry.cc
#include "service/model_registry.h"

#include <sodium.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status.h"
#include "ckks/parameters.h"
#include "ring/automorphism.h"
#include "runtime/plan_io.h"
#include "service/auth.h"

namespace blindfold::service {

namespace v1 = ::blindfold::v1;

std::string Sha256Hex(std::string_view bytes) {
  uint8_t h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  char hex[2 * sizeof(h) + 1];
  sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
  return std::string(hex, 2 * sizeof(h));
}

v1::ModelInfo ModelInfoOf(const std::string& name, const runtime::Plan& plan,
                          const std::string& plan_sha256) {
  const runtime::PlanInterface i = runtime::InterfaceOf(plan);
  v1::ModelInfo m;
  m.set_name(name);
  m.set_mode(i.mode == runtime::PackingMode::kThroughput ? v1::PACKING_MODE_THROUGHPUT
                                                         : v1::PACKING_MODE_LATENCY);
  v1::CkksParameters* p = m.mutable_parameters();
  p->set_log_n(i.params.log_n);
  p->set_log_default_scale(i.params.log_default_scale);
  auto params = ckks::Parameters::Create(i.params);
  if (params.ok()) {
    for (int k = 0; k < (*params)->num_q(); ++k) p->add_q((*params)->q(k));
    for (int k = 0; k < (*params)->num_p(); ++k) p->add_p((*params)->p(k));
    p->set_fingerprint((*params)->fingerprint());
    p->set_dnum((*params)->dnum());
    p->set_log_qp((*params)->log_qp());
  }
  m.set_input_scale_log2(i.input_scale_log2);
  m.set_slots(i.slots);
  m.set_depth(i.depth);
  for (int64_t d : i.input_shape) m.add_input_shape(d);
  for (int64_t d : i.output_shape) m.add_output_shape(d);
  m.set_input_dim(i.input_dim);
  m.set_input_period(i.input_period);
  for (int32_t e : i.input_layout) m.add_input_layout(e);
  m.set_output_dim(i.output_dim);
  m.set_output_period(i.output_period);
  for (int32_t e : i.output_layout) m.add_output_layout(e);
  for (const auto& [r, level] : i.rotation_levels) {
    m.add_rotations(r);
    m.add_galois_elements(ring::GaloisElementForRotation(r, i.params.log_n));
    m.add_rotation_levels(level);
  }
  m.set_needs_relinearization_key(i.relin_level >= 0);
  m.set_relinearization_level(std::max(i.relin_level, 0));
  for (const auto& l : i.labels) m.add_labels(l);
  m.set_plan_sha256(plan_sha256);
  return m;
}

absl::Status ModelRegistry::Add(const std::string& name, runtime::Plan plan,
                                const std::string& plan_bytes, size_t cache_bytes) {
  if (!IsValidName(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("model name '", name, "' is not 1 to 64 of [A-Za-z0-9._@-]"));
  }
  if (models_.count(name)) {
    return absl::AlreadyExistsError(absl::StrCat("model '", name, "' loaded twice"));
  }
  BF_ASSIGN_OR_RETURN(ckks::ParametersPtr params, ckks::Parameters::Create(plan.params));
  auto m = std::make_shared<Model>();
  m->name = name;
  m->plan_sha256 = Sha256Hex(plan_bytes);
  m->fingerprint = params->fingerprint();
  m->info = ModelInfoOf(name, plan, m->plan_sha256);
  m->plan = std::make_shared<const runtime::Plan>(std::move(plan));
  m->cache = std::make_shared<circuits::PlaintextCache>(cache_bytes);
  models_[name] = std::move(m);
  return absl::OkStatus();
}

absl::StatusOr<ModelRegistry> ModelRegistry::LoadDirectory(const std::string& dir,
                                                           size_t cache_bytes) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return absl::NotFoundError(absl::StrCat("--models: ", dir, " is not a directory"));
  }
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.is_regular_file() && e.path().extension() == ".plan") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "--models: no .plan files in ", dir, " (make them with 'blindfold compile')"));
  }
  ModelRegistry r;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    const std::string bytes = s.str();
    auto plan = runtime::DeserializePlan(bytes);
    if (!plan.ok()) {
      return absl::Status(plan.status().code(),
                          absl::StrCat(f.string(), ": ", plan.status().message()));
    }
    BF_RETURN_IF_ERROR(
        AnnotateStatus(r.Add(f.stem().string(), *std::move(plan), bytes, cache_bytes),
                       f.string()));
  }
  return r;
}

const Model* ModelRegistry::Find(const std::string& name) const {
  auto it = models_.find(name);
  return it == models_.end() ? nullptr : it->second.get();
}

std::vector<const Model*> ModelRegistry::models() const {
  std::vector<const Model*> out;
  for (const auto& [name, m] : models_) out.push_back(m.get());
  return out;
}

std::string ModelRegistry::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, m] : models_) names.push_back(name);
  return absl::StrJoin(names, ", ");
}

}  // namespace blindfold::service
