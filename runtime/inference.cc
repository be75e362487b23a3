// File: runtime/inference.cc
#include "runtime/inference.h"

#include <bit>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/random.h"
#include "base/status.h"
#include "base/thread_pool.h"
#include "circuits/ckks_backend.h"
#include "ckks/encoder.h"
#include "ckks/encryptor.h"
#include "ckks/evaluator.h"
#include "ckks/keys.h"
#include "ckks/serialization.h"
#include "ring/automorphism.h"

namespace blindfold::runtime {
namespace {

void PutU64(std::string* s, uint64_t v);
uint64_t GetU64(std::string_view b, size_t at);

constexpr char kSecretMagic[8] = {'B', 'F', 'S', 'K', 'E', 'Y', 0, 1};
constexpr char kEvkMagic[8] = {'B', 'F', 'E', 'V', 'K', 'S', 0, 1};
constexpr char kBatchMagic[8] = {'B', 'F', 'B', 'A', 'T', 'C', 'H', 1};
constexpr uint32_t kMaxBatchCiphertexts = 1 << 16;

std::string PackBatch(const std::vector<std::string>& cts) {
  std::string out(kBatchMagic, sizeof(kBatchMagic));
  PutU64(&out, cts.size());
  for (const auto& c : cts) {
    PutU64(&out, c.size());
    out += c;
  }
  return out;
}

absl::StatusOr<std::vector<std::string_view>> UnpackBatch(std::string_view b) {
  if (b.size() < 16 || std::memcmp(b.data(), kBatchMagic, sizeof(kBatchMagic)) != 0) {
    return absl::InvalidArgumentError(
        "Batch: not a Blindfold ciphertext batch (bad magic or too short)");
  }
  const uint64_t n = GetU64(b, 8);
  if (n > kMaxBatchCiphertexts || n > (b.size() - 16) / 8) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Batch: ", n, " ciphertexts in ", b.size(), " bytes"));
  }
  std::vector<std::string_view> out;
  size_t at = 16;
  for (uint64_t i = 0; i < n; ++i) {
    if (b.size() - at < 8) {
      return absl::InvalidArgumentError(absl::StrCat("Batch: truncated at ciphertext ", i));
    }
    const uint64_t len = GetU64(b, at);
    at += 8;
    if (len > b.size() - at) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Batch: ciphertext ", i, " of ", len, " bytes overruns the batch"));
    }
    out.push_back(b.substr(at, len));
    at += len;
  }
  if (at != b.size()) {
    return absl::InvalidArgumentError(absl::StrCat("Batch: ", b.size() - at,
                                                   " trailing bytes"));
  }
  return out;
}

void PutU64(std::string* s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s->push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t GetU64(std::string_view b, size_t at) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    v |= static_cast<uint64_t>(static_cast<uint8_t>(b[at + i])) << (8 * i);
  }
  return v;
}

template <typename P>
absl::StatusOr<ckks::ParametersPtr> PlanParameters(const P& plan) {
  auto p = ckks::Parameters::Create(plan.params);
  if (!p.ok()) {
    return absl::Status(p.status().code(),
                        absl::StrCat("plan parameters: ", p.status().message()));
  }
  return *p;
}

// BLINDFOLD_PLAINTEXT_CACHE_MB (default 256; 0 disables the cache).
size_t PlaintextCacheBudget() {
  const char* v = std::getenv("BLINDFOLD_PLAINTEXT_CACHE_MB");
  long mb = 256;
  if (v != nullptr && *v != '\0') {
    char* end = nullptr;
    const long parsed = std::strtol(v, &end, 10);
    if (end != v && *end == '\0' && parsed >= 0 && parsed <= (1L << 20)) mb = parsed;
  }
  return static_cast<size_t>(mb) << 20;
}

// BLINDFOLD_DOUBLE_HOISTING=0 turns double hoisting off (circuits/
// ckks_backend.h), for measuring what it buys; anything else keeps it on.
bool DoubleHoisting() {
  const char* v = std::getenv("BLINDFOLD_DOUBLE_HOISTING");
  return v == nullptr || std::string_view(v) != "0";
}

template <typename P>
ckks::Scale InputScale(const P& plan) {
  return ckks::Scale::FromLog2(plan.input_scale_log2);
}

}  // namespace

// ---------------------------------------------------------------- client --

struct InferenceClient::State {
  PlanInterface plan;
  ckks::ParametersPtr params;
  Seed seed;
  ckks::SecretKey sk;
  std::unique_ptr<ckks::Encoder> encoder;
  std::unique_ptr<ckks::Encryptor> encryptor;
  std::unique_ptr<ckks::Decryptor> decryptor;
};

InferenceClient::InferenceClient(std::unique_ptr<State> s) : s_(std::move(s)) {}
InferenceClient::~InferenceClient() = default;

namespace {

absl::StatusOr<std::unique_ptr<InferenceClient::State>> MakeClientState(
    const PlanInterface& plan, const Seed& seed) {
  auto s = std::make_unique<InferenceClient::State>();
  s->plan = plan;
  BF_ASSIGN_OR_RETURN(s->params, PlanParameters(plan));
  s->seed = seed;
  ckks::KeyGenerator keygen(s->params);
  s->sk = keygen.GenSecretKeyFromSeed(seed);
  s->encoder = std::make_unique<ckks::Encoder>(s->params);
  BF_ASSIGN_OR_RETURN(ckks::Encryptor encryptor,
                      ckks::Encryptor::Create(s->params, s->sk.Clone()));
  BF_ASSIGN_OR_RETURN(ckks::Decryptor decryptor,
                      ckks::Decryptor::Create(s->params, s->sk.Clone()));
  s->encryptor = std::make_unique<ckks::Encryptor>(std::move(encryptor));
  s->decryptor = std::make_unique<ckks::Decryptor>(std::move(decryptor));
  return s;
}

}  // namespace

absl::StatusOr<std::unique_ptr<InferenceClient>> InferenceClient::Create(
    const Plan& plan) {
  return Create(InterfaceOf(plan));
}

absl::StatusOr<std::unique_ptr<InferenceClient>> InferenceClient::Create(
    const PlanInterface& plan) {
  BF_ASSIGN_OR_RETURN(auto s, MakeClientState(plan, Seed::FromOs()));
  return std::unique_ptr<InferenceClient>(new InferenceClient(std::move(s)));
}

absl::StatusOr<std::unique_ptr<InferenceClient>> InferenceClient::FromSecretKeyFile(
    const Plan& plan, std::string_view bytes) {
  return FromSecretKeyFile(InterfaceOf(plan), bytes);
}

absl::StatusOr<std::unique_ptr<InferenceClient>> InferenceClient::FromSecretKeyFile(
    const PlanInterface& plan, std::string_view bytes) {
  const size_t want = sizeof(kSecretMagic) + 8 + Seed::kSize;
  if (bytes.size() != want ||
      std::memcmp(bytes.data(), kSecretMagic, sizeof(kSecretMagic)) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "LoadSecretKey: not a Blindfold secret-key file (", bytes.size(),
        " bytes, expected ", want, " starting with the BFSKEY magic)"));
  }
  BF_ASSIGN_OR_RETURN(ckks::ParametersPtr params, PlanParameters(plan));
  const uint64_t fp = GetU64(bytes, sizeof(kSecretMagic));
  if (fp != params->fingerprint()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "LoadSecretKey: key is for parameters ", fp, ", the plan uses ",
        params->fingerprint()));
  }
  std::array<uint8_t, Seed::kSize> raw;
  std::memcpy(raw.data(), bytes.data() + sizeof(kSecretMagic) + 8, Seed::kSize);
  const Seed seed{std::span<const uint8_t, Seed::kSize>(raw)};
  SecureZero(raw.data(), raw.size());
  BF_ASSIGN_OR_RETURN(auto s, MakeClientState(plan, seed));
  return std::unique_ptr<InferenceClient>(new InferenceClient(std::move(s)));
}

std::string InferenceClient::SecretKeyFile() const {
  std::string out(kSecretMagic, sizeof(kSecretMagic));
  PutU64(&out, s_->params->fingerprint());
  const auto& b = s_->seed.bytes();
  out.append(reinterpret_cast<const char*>(b.data()), b.size());
  return out;
}

namespace {

// A result as the server sends it: a compact ciphertext (plans whose output
// ends at level 0 or 1, every optimized plan) or a full one (the
// conventional baseline keeps its unused primes to the end).
absl::StatusOr<ckks::Ciphertext> ParseOutput(const ckks::Parameters& params,
                                             std::string_view bytes) {
  constexpr size_t kTypeOffset = 6;  // ckks/serialization.h header
  if (bytes.size() > kTypeOffset &&
      static_cast<uint8_t>(bytes[kTypeOffset]) ==
          static_cast<uint8_t>(ckks::ObjectType::kCiphertext)) {
    return ckks::DeserializeCiphertext(params, bytes);
  }
  return ckks::DeserializeCompactCiphertext(params, bytes);
}

}  // namespace

absl::StatusOr<std::string> InferenceClient::EvaluationKeys() const {
  ckks::KeyGenerator keygen(s_->params);
  std::string relin;
  // Each key reaches only the highest level the plan uses it at: a
  // rotation applied late in the chain gets a key over fewer primes with
  // fewer digits (cnn: 41.5 MB -> see docs/inference-benchmarks.md).
  if (s_->plan.relin_level >= 0) {
    BF_ASSIGN_OR_RETURN(const ckks::RelinKey rk,
                        keygen.GenRelinKey(s_->sk, s_->plan.relin_level));
    BF_ASSIGN_OR_RETURN(relin, ckks::SerializeRelinKey(*s_->params, rk));
  }
  ckks::GaloisKeys gk;
  gk.fingerprint = s_->params->fingerprint();
  for (const auto& [r, level] : s_->plan.rotation_levels) {
    const uint64_t g = ring::GaloisElementForRotation(static_cast<int>(r),
                                                      s_->params->log_n());
    BF_ASSIGN_OR_RETURN(ckks::SwitchingKey key, keygen.GenGaloisKey(s_->sk, g, level));
    gk.keys.emplace(g, std::move(key));
  }
  BF_ASSIGN_OR_RETURN(std::string galois, ckks::SerializeGaloisKeys(*s_->params, gk));
  std::string out(kEvkMagic, sizeof(kEvkMagic));
  PutU64(&out, relin.size());
  out += relin;
  PutU64(&out, galois.size());
  out += galois;
  return out;
}

absl::StatusOr<std::string> InferenceClient::EncryptInput(
    std::span<const double> x) const {
  const PlanInterface& plan = s_->plan;
  if (static_cast<int64_t>(x.size()) != plan.input_dim) {
    return absl::InvalidArgumentError(absl::StrCat(
        "EncryptInput: ", x.size(), " values, the plan's input has ",
        plan.input_dim));
  }
  for (double v : x) {
    if (!std::isfinite(v)) {
      return absl::InvalidArgumentError("EncryptInput: a value is not finite");
    }
  }
  const std::vector<double> values(x.begin(), x.end());
  ckks::Plaintext pt;
  // The input's layout (possibly a gather that repeats values: the
  // client-side im2col of compiler/lower/pack.h), tiled.
  BF_RETURN_IF_ERROR(s_->encoder->Encode(
      circuits::Tile(LaidOut(values, plan.input_layout, plan.input_period),
                     plan.input_period, plan.slots),
      static_cast<std::size_t>(plan.slots), plan.depth, InputScale(plan), &pt));
  BF_ASSIGN_OR_RETURN(ckks::Ciphertext ct, s_->encryptor->EncryptNew(pt));
  return ckks::SerializeCiphertext(*s_->params, ct, /*seeded=*/true);
}

absl::StatusOr<std::string> InferenceClient::EncryptBatch(
    const std::vector<std::vector<double>>& inputs) const {
  const PlanInterface& plan = s_->plan;
  if (plan.mode != PackingMode::kThroughput) {
    return absl::FailedPreconditionError(
        "EncryptBatch: the plan is in latency mode; use EncryptInput");
  }
  if (inputs.empty() || static_cast<int64_t>(inputs.size()) > plan.slots) {
    return absl::InvalidArgumentError(absl::StrCat(
        "EncryptBatch: ", inputs.size(), " inputs, expected 1 to ", plan.slots));
  }
  const int64_t dim = plan.input_dim;
  for (const auto& x : inputs) {
    if (static_cast<int64_t>(x.size()) != dim) {
      return absl::InvalidArgumentError(absl::StrCat(
          "EncryptBatch: an input has ", x.size(), " values, expected ", dim));
    }
    for (double v : x) {
      if (!std::isfinite(v)) {
        return absl::InvalidArgumentError("EncryptBatch: a value is not finite");
      }
    }
  }
  std::vector<std::string> cts;
  std::vector<double> slots(plan.slots, 0.0);
  for (int64_t e = 0; e < dim; ++e) {
    for (size_t i = 0; i < inputs.size(); ++i) slots[i] = inputs[i][e];
    ckks::Plaintext pt;
    BF_RETURN_IF_ERROR(s_->encoder->Encode(slots, static_cast<std::size_t>(plan.slots),
                                           plan.depth, InputScale(plan), &pt));
    BF_ASSIGN_OR_RETURN(ckks::Ciphertext ct, s_->encryptor->EncryptNew(pt));
    BF_ASSIGN_OR_RETURN(std::string bytes,
                        ckks::SerializeCiphertext(*s_->params, ct, /*seeded=*/true));
    cts.push_back(std::move(bytes));
  }
  return PackBatch(cts);
}

absl::StatusOr<std::vector<std::vector<double>>> InferenceClient::DecryptBatch(
    std::string_view batch, int count) const {
  const PlanInterface& plan = s_->plan;
  if (count < 1 || count > plan.slots) {
    return absl::InvalidArgumentError(absl::StrCat(
        "DecryptBatch: count ", count, ", expected 1 to ", plan.slots));
  }
  BF_ASSIGN_OR_RETURN(std::vector<std::string_view> cts, UnpackBatch(batch));
  if (static_cast<int64_t>(cts.size()) != plan.output_dim) {
    return absl::InvalidArgumentError(absl::StrCat(
        "DecryptBatch: ", cts.size(), " ciphertexts, the plan has ", plan.output_dim,
        " outputs"));
  }
  std::vector<std::vector<double>> out(count, std::vector<double>(plan.output_dim));
  for (size_t e = 0; e < cts.size(); ++e) {
    BF_ASSIGN_OR_RETURN(ckks::Ciphertext ct,
                        ParseOutput(*s_->params, cts[e]));
    BF_ASSIGN_OR_RETURN(ckks::Plaintext pt, s_->decryptor->DecryptNew(ct));
    BF_ASSIGN_OR_RETURN(std::vector<double> v, s_->encoder->Decode(pt));
    if (static_cast<int>(v.size()) < count) {
      return absl::InvalidArgumentError("DecryptBatch: ciphertext has too few slots");
    }
    for (int i = 0; i < count; ++i) out[i][e] = v[i];
  }
  for (auto& y : out) ckks::RoundToBits(y, kOutputBits);
  return out;
}

const ckks::DecryptionOptions& InferenceClient::decryption_options() const {
  return s_->decryptor->options();
}

absl::StatusOr<std::vector<double>> InferenceClient::DecryptOutput(
    std::string_view bytes) const {
  BF_ASSIGN_OR_RETURN(ckks::Ciphertext ct,
                      ParseOutput(*s_->params, bytes));
  // A compact result has the output's period as its slots, a full one the
  // plan's slots (the layout repeats with the period, so both decode).
  const int64_t ct_slots = static_cast<int64_t>(ct.slots());
  if (ct_slots != s_->plan.output_period && ct_slots != s_->plan.slots) {
    return absl::InvalidArgumentError(absl::StrCat(
        "DecryptOutput: output has ", ct_slots, " slots, the plan's output has period ",
        s_->plan.output_period, " in ", s_->plan.slots, " slots"));
  }
  BF_ASSIGN_OR_RETURN(ckks::Plaintext pt, s_->decryptor->DecryptNew(ct));
  BF_ASSIGN_OR_RETURN(std::vector<double> slots, s_->encoder->Decode(pt));
  std::vector<double> y = Gathered(slots, s_->plan.output_layout, s_->plan.output_dim);
  ckks::RoundToBits(y, kOutputBits);
  return y;
}

// ---------------------------------------------------------------- server --

struct InferenceServer::State {
  std::shared_ptr<const Plan> plan;
  std::shared_ptr<circuits::PlaintextCache> cache;
  ckks::ParametersPtr params;
  std::shared_ptr<const ckks::EvaluationKeys> keys;
  std::unique_ptr<ckks::Encoder> encoder;
  std::unique_ptr<ckks::Evaluator> evaluator;
  int64_t key_bytes = 0;
};

InferenceServer::InferenceServer(std::unique_ptr<State> s) : s_(std::move(s)) {}
InferenceServer::~InferenceServer() = default;

absl::StatusOr<std::unique_ptr<InferenceServer>> InferenceServer::Create(
    Plan plan, std::string_view evk, std::optional<size_t> plaintext_cache_bytes) {
  return Create(std::make_shared<const Plan>(std::move(plan)),
                std::make_shared<circuits::PlaintextCache>(
                    plaintext_cache_bytes.value_or(PlaintextCacheBudget())),
                evk);
}

absl::StatusOr<std::unique_ptr<InferenceServer>> InferenceServer::Create(
    std::shared_ptr<const Plan> shared_plan, std::shared_ptr<circuits::PlaintextCache> cache,
    std::string_view evk) {
  const Plan& plan = *shared_plan;
  auto s = std::make_unique<State>();
  BF_ASSIGN_OR_RETURN(s->params, PlanParameters(plan));
  const size_t head = sizeof(kEvkMagic);
  if (evk.size() < head + 16 || std::memcmp(evk.data(), kEvkMagic, head) != 0) {
    return absl::InvalidArgumentError(
        "LoadEvaluationKeys: not a Blindfold evaluation-key file (bad magic or "
        "too short)");
  }
  const uint64_t relin_len = GetU64(evk, head);
  if (relin_len > evk.size() - head - 16) {
    return absl::InvalidArgumentError(absl::StrCat(
        "LoadEvaluationKeys: relinearization key of ", relin_len,
        " bytes overruns the ", evk.size(), "-byte file"));
  }
  const uint64_t galois_len = GetU64(evk, head + 8 + relin_len);
  if (galois_len != evk.size() - head - 16 - relin_len) {
    return absl::InvalidArgumentError(absl::StrCat(
        "LoadEvaluationKeys: Galois keys of ", galois_len, " bytes, ",
        evk.size() - head - 16 - relin_len, " bytes left"));
  }
  std::optional<ckks::RelinKey> relin;
  if (relin_len > 0) {
    BF_ASSIGN_OR_RETURN(relin,
                        ckks::DeserializeRelinKey(*s->params, evk.substr(head + 8, relin_len)));
  } else if (plan.CiphertextProductCount() > 0) {
    return absl::InvalidArgumentError(
        "LoadEvaluationKeys: the plan multiplies ciphertexts and needs a "
        "relinearization key");
  }
  BF_ASSIGN_OR_RETURN(ckks::GaloisKeys galois,
                      ckks::DeserializeGaloisKeys(
                          *s->params, evk.substr(head + 16 + relin_len, galois_len)));
  BF_ASSIGN_OR_RETURN(s->keys, ckks::EvaluationKeys::Create(s->params, std::move(relin),
                                                            std::move(galois)));
  BF_ASSIGN_OR_RETURN(ckks::Evaluator evaluator, ckks::Evaluator::Create(s->params, s->keys));
  s->evaluator = std::make_unique<ckks::Evaluator>(std::move(evaluator));
  for (const auto& [r, level] : plan.RotationLevels()) {
    const uint64_t g = s->evaluator->GaloisElementForRotation(static_cast<int>(r));
    const ckks::SwitchingKey* key = s->keys->galois(g);
    if (key == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "LoadEvaluationKeys: no Galois key for rotation ", r, " (element ", g,
          ") that the plan uses"));
    }
    if (key->level() < level) {
      return absl::InvalidArgumentError(absl::StrCat(
          "LoadEvaluationKeys: the Galois key for rotation ", r, " reaches level ",
          key->level(), ", the plan rotates at level ", level));
    }
  }
  if (s->keys->relin() != nullptr && s->keys->relin()->key.level() < plan.RelinLevel()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "LoadEvaluationKeys: the relinearization key reaches level ",
        s->keys->relin()->key.level(), ", the plan multiplies at level ",
        plan.RelinLevel()));
  }
  s->encoder = std::make_unique<ckks::Encoder>(s->params);
  s->key_bytes = static_cast<int64_t>(evk.size());
  s->cache = std::move(cache);
  s->plan = std::move(shared_plan);
  return std::unique_ptr<InferenceServer>(new InferenceServer(std::move(s)));
}

const Plan& InferenceServer::plan() const { return *s_->plan; }
int64_t InferenceServer::evaluation_key_bytes() const { return s_->key_bytes; }

namespace {

// The output as a compact ciphertext (ckks/serialization.h): only the c0
// coefficients its period needs, and the low bits of each coefficient that
// lie far below the output's precision rounded away. The rounding adds an
// error of ~2^(drop + 4.4 + log2(2 period)/2) / scale per output (uniform
// ternary secret at N = 2^13; more generally sqrt(N/18)); drop is chosen so
// that this stays near 2^-(input scale bits - 15), well below the error
// the plan's own arithmetic leaves at that scale (cnn at 2^28: ~2^-8;
// docs/inference-benchmarks.md).
absl::StatusOr<std::string> SerializeOutput(const ckks::Parameters& params, const Plan& plan,
                                            const ckks::Ciphertext& ct, int64_t period) {
  const double rounding_log2 = 0.5 * std::log2(static_cast<double>(params.n()) / 18.0) +
                               0.5 * std::log2(2.0 * static_cast<double>(period));
  const double target_log2 = -(plan.input_scale_log2 - 15);
  const int drop = std::max(
      0, static_cast<int>(std::floor(ct.scale().log2() + target_log2 - rounding_log2)));
  // Above level 1 (a baseline plan keeps its unused primes): the full
  // ciphertext, as a conventional pipeline sends it.
  if (ct.level() > 1) return ckks::SerializeCiphertext(params, ct, /*seeded=*/false);
  // log2(Q_level) - 1 <= the bits below: never drop the whole modulus.
  int q_bits = 0;
  for (int i = 0; i <= ct.level(); ++i) q_bits += std::bit_width(params.q(i)) - 1;
  ckks::CompactOptions o;
  o.period = static_cast<int>(period);
  o.drop_bits = std::min(drop, q_bits - 2);
  return ckks::SerializeCompactCiphertext(params, ct, o);
}

absl::Status CheckInput(const Plan& plan, const ckks::Ciphertext& ct) {
  if (ct.level() != plan.depth || static_cast<int64_t>(ct.slots()) != plan.slots ||
      ct.degree() != 1 || !ct.scale().Matches(InputScale(plan))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Run: input ciphertext at level ", ct.level(), " with ", ct.slots(),
        " slots, degree ", ct.degree(), " and scale 2^", ct.scale().log2(),
        "; the plan takes level ", plan.depth, ", ", plan.slots,
        " slots, degree 1, scale 2^", plan.input_scale_log2));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> InferenceServer::Run(
    std::string_view input, RunStats* stats,
    const std::function<void(int64_t, int64_t)>& progress) const {
  const auto start = std::chrono::steady_clock::now();
  const Plan& plan = *s_->plan;
  circuits::CkksBackend backend(*s_->evaluator, *s_->encoder, plan.depth,
                                InputScale(plan), plan.slots, s_->cache.get());
  backend.set_double_hoisting(DoubleHoisting());
  auto finish = [&] {
    if (stats == nullptr) return;
    stats->rotations = backend.rotations;
    stats->hoisted_rotations = backend.hoisted_rotations;
    stats->key_switches = backend.key_switches;
    stats->seconds = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - start).count();
  };
  const bool is_batch = input.size() >= sizeof(kBatchMagic) &&
                        std::memcmp(input.data(), kBatchMagic, sizeof(kBatchMagic)) == 0;
  if (plan.mode == PackingMode::kThroughput) {
    if (!is_batch && input.size() >= 4 && input.substr(0, 4) == "BFCK") {
      return absl::InvalidArgumentError(
          "Run: a single ciphertext for a throughput plan, which takes a batch "
          "(InferenceClient::EncryptBatch; blindfold encrypt on this plan)");
    }
    BF_ASSIGN_OR_RETURN(std::vector<std::string_view> parts, UnpackBatch(input));
    if (static_cast<int64_t>(parts.size()) != plan.terms[0].dim) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Run: batch of ", parts.size(), " ciphertexts, the plan's input has ",
          plan.terms[0].dim, " elements"));
    }
    // Parse (and expand the seeded halves of) the inputs in parallel: for a
    // small model this is most of the request.
    std::vector<ckks::Ciphertext> in(parts.size());
    std::vector<absl::Status> status(parts.size());
    ParallelFor(parts.size(), [&](std::size_t i) {
      auto ct = ckks::DeserializeCiphertext(*s_->params, parts[i]);
      status[i] = ct.ok() ? CheckInput(plan, *ct) : ct.status();
      if (status[i].ok()) in[i] = *std::move(ct);
    });
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (!status[i].ok()) {
        return absl::Status(status[i].code(),
                            absl::StrCat("Run: batch element ", i, ": ", status[i].message()));
      }
    }
    std::vector<ckks::Ciphertext> out = ExecutePlanBatched(backend, plan, std::move(in), BatchedOptions{}, progress);
    BF_RETURN_IF_ERROR(backend.status());
    finish();
    std::vector<std::string> bytes;
    for (const auto& ct : out) {
      BF_ASSIGN_OR_RETURN(std::string b, SerializeOutput(*s_->params, plan, ct, plan.slots));
      bytes.push_back(std::move(b));
    }
    return PackBatch(bytes);
  }
  if (is_batch) {
    return absl::InvalidArgumentError(
        "Run: a batch of ciphertexts for a latency plan, which takes one ciphertext "
        "(compile with --mode throughput for batches)");
  }
  BF_ASSIGN_OR_RETURN(ckks::Ciphertext ct, ckks::DeserializeCiphertext(*s_->params, input));
  BF_RETURN_IF_ERROR(CheckInput(plan, ct));
  ckks::Ciphertext out = ExecutePlan(backend, plan, std::move(ct));
  BF_RETURN_IF_ERROR(backend.status());
  finish();
  return SerializeOutput(*s_->params, plan, out, plan.output.period);
}

}  // namespace blindfold::runtime
