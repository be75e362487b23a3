#include "ckks/keys.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "base/thread_pool.h"
#include "ckks/internal/access.h"
#include "ckks/internal/seed_expansion.h"
#include "ckks/sampling_domains.h"
#include "ckks/validation.h"
#include "ring/automorphism.h"
#include "ring/sampler.h"

namespace blindfold::ckks {

KeyGenerator::KeyGenerator(ParametersPtr params) : params_(std::move(params)) {}

ring::RnsPoly KeyGenerator::SampleErrorNtt(Prng& prng, int num_q, int num_p) const {
  const ParametersLiteral& lit = params_->literal();
  std::vector<int64_t> e =
      ring::SampleError(prng, params_->n(), lit.error, lit.error_sigma);
  ring::RnsPoly poly(params_->n(), num_q, num_p, false);
  ring::SetFromSigned(internal::Access::ring(*params_), e, &poly);
  SecureZero(e.data(), e.size() * sizeof(int64_t));
  ring::ToNtt(internal::Access::ring(*params_), &poly);
  return poly;
}

SecretKey KeyGenerator::GenSecretKey() const {
  return GenSecretKeyFromSeed(Seed::FromOs());
}

SecretKey KeyGenerator::GenSecretKeyFromSeed(const Seed& seed) const {
  Prng prng(seed, kDomainSecretKey);
  const ParametersLiteral& lit = params_->literal();
  std::vector<int64_t> s =
      lit.secret == SecretDistribution::kSparseTernary
          ? ring::SampleTernaryFixedWeight(prng, params_->n(),
                                           lit.secret_hamming_weight)
          : ring::SampleTernary(prng, params_->n());
  ring::RnsPoly poly(params_->n(), params_->num_q(), params_->num_p(), false);
  ring::SetFromSigned(internal::Access::ring(*params_), s, &poly);
  SecureZero(s.data(), s.size() * sizeof(int64_t));
  ring::ToNtt(internal::Access::ring(*params_), &poly);
  return SecretKey(std::move(poly), params_->fingerprint());
}

absl::StatusOr<PublicKey> KeyGenerator::GenPublicKey(const SecretKey& sk) const {
  BF_RETURN_IF_ERROR(ValidateSecretKey(*params_, sk, "GenPublicKey"));
  const ring::RingContext& ring = internal::Access::ring(*params_);
  const int L = params_->num_q();
  PublicKey pk;
  pk.fingerprint = params_->fingerprint();
  pk.seed = Seed::FromOs();
  internal::ExpandPublicKeyA(*params_, pk.seed, &pk.a);
  Prng prng(Seed::FromOs(), 0);
  pk.b = SampleErrorNtt(prng, L, 0);
  ring::RnsPoly as(params_->n(), L, 0, true);
  ring::MulPointwise(ring, pk.a, sk.poly(), &as);  // uses sk's Q limbs
  ring::Sub(ring, pk.b, as, &pk.b);
  as.SecureWipe();  // a s with a public gives s
  return pk;
}

void internal::ExpandPublicKeyA(const Parameters& params, const Seed& seed,
                      ring::RnsPoly* a) {
  *a = ring::RnsPoly(params.n(), params.num_q(), 0, true);
  ring::SampleUniform(internal::Access::ring(params), seed, kDomainPublicKeyA, a);
}

void internal::ExpandSwitchingKeyA(const Parameters& params, const Seed& seed, int digit,
                         int num_q, ring::RnsPoly* a) {
  *a = ring::RnsPoly(params.n(), num_q, params.num_p(), true);
  ring::SampleUniform(internal::Access::ring(params), seed, kDomainSwitchingKeyA + digit, a);
}

absl::StatusOr<int> KeyGenerator::KeyLevel(int level, absl::string_view op) const {
  if (level == -1) return params_->max_level();
  if (level < 0 || level > params_->max_level()) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": key level ", level, " outside [0, ", params_->max_level(), "]"));
  }
  return level;
}

SwitchingKey KeyGenerator::GenSwitchingKey(const SecretKey& sk,
                                           const ring::RnsPoly& s_prime,
                                           int level) const {
  const ring::RingContext& ring = internal::Access::ring(*params_);
  const ring::HybridDecomposition& dec = internal::Access::decomposition(*params_);
  const int L = level + 1, K = params_->num_p(), full_q = params_->num_q();
  const std::size_t n = params_->n();
  SwitchingKey key;
  key.fingerprint = params_->fingerprint();
  key.seed = Seed::FromOs();
  Prng prng(Seed::FromOs(), 0);
  const int dnum = dec.NumDigits(level);
  key.a.resize(dnum);
  key.b.resize(dnum);
  // s over q_0..q_level and P (wiped below).
  ring::RnsPoly s(n, L, K, true, ring::RnsPoly::Uninitialized{});
  for (int i = 0; i < L + K; ++i) {
    const int from = i < L ? i : full_q + (i - L);
    std::copy_n(sk.poly().limb(from), n, s.limb(i));
  }
  for (int j = 0; j < dnum; ++j) {
    internal::ExpandSwitchingKeyA(*params_, key.seed, j, L, &key.a[j]);
    ring::RnsPoly b = SampleErrorNtt(prng, L, K);
    ring::RnsPoly as(n, L, K, true);
    ring::MulPointwise(ring, key.a[j], s, &as);
    ring::Sub(ring, b, as, &b);
    as.SecureWipe();  // a_j s with a_j public gives s
    // + P s' on the limbs of digit j (g_j is 1 there, 0 on other Q limbs and
    // P g_j = 0 mod every p_k).
    const int start = j * dec.alpha();
    const int end = std::min(start + dec.alpha(), L);
    ParallelFor(end - start, [&](std::size_t t) {
      const int i = start + static_cast<int>(t);
      const math::Modulus& qi = ring.q(i);
      for (std::size_t x = 0; x < n; ++x) {
        const uint64_t ps = math::MulMod(s_prime.limb(i)[x], dec.p_mod_q(i), qi);
        b.limb(i)[x] = math::AddMod(b.limb(i)[x], ps, qi.value);
      }
    });
    key.b[j] = std::move(b);
  }
  s.SecureWipe();
  return key;
}

absl::StatusOr<RelinKey> KeyGenerator::GenRelinKey(const SecretKey& sk,
                                                   int level) const {
  BF_RETURN_IF_ERROR(ValidateSecretKey(*params_, sk, "GenRelinKey"));
  BF_ASSIGN_OR_RETURN(const int key_level, KeyLevel(level, "GenRelinKey"));
  ring::RnsPoly s2(params_->n(), params_->num_q(), params_->num_p(), true);
  ring::MulPointwise(internal::Access::ring(*params_), sk.poly(), sk.poly(), &s2);
  RelinKey rk{GenSwitchingKey(sk, s2, key_level)};
  s2.SecureWipe();
  return rk;
}

absl::StatusOr<SwitchingKey> KeyGenerator::GenGaloisKey(
    const SecretKey& sk, uint64_t galois_element, int level) const {
  BF_RETURN_IF_ERROR(ValidateSecretKey(*params_, sk, "GenGaloisKey"));
  BF_RETURN_IF_ERROR(ValidateGaloisElement(*params_, galois_element, "GenGaloisKey"));
  BF_ASSIGN_OR_RETURN(const int key_level, KeyLevel(level, "GenGaloisKey"));
  // Key switching s into sigma_g^-1(s): b_j = -a_j sigma_g^-1(s) + e_j +
  // P g_j s. This is the usual key for sigma_g(s) with sigma_g^-1 applied to
  // both halves, so the evaluator switches the *unrotated* c_1 and applies
  // sigma_g once to the result (see keys.h).
  const uint64_t two_n = uint64_t{2} << params_->log_n();
  uint64_t g_inv = 1;  // g^(N/2 - 1) = g^-1: (Z/2N)^* has exponent N/2
  for (uint64_t e = params_->n() / 2 - 1, b = galois_element % two_n; e;
       e >>= 1, b = b * b % two_n) {
    if (e & 1) g_inv = g_inv * b % two_n;
  }
  ring::RnsPoly rotated(params_->n(), params_->num_q(), params_->num_p(), true);
  ring::ApplyAutomorphismNtt(
      sk.poly(), ring::AutomorphismNttIndex(params_->log_n(), g_inv), &rotated);
  const SecretKey encrypting(std::move(rotated), sk.fingerprint());  // wiped
  return GenSwitchingKey(encrypting, sk.poly(), key_level);
}

absl::StatusOr<GaloisKeys> KeyGenerator::GenGaloisKeys(
    const SecretKey& sk, std::span<const int> rotations, bool conjugation,
    int level) const {
  BF_RETURN_IF_ERROR(ValidateSecretKey(*params_, sk, "GenGaloisKeys"));
  BF_RETURN_IF_ERROR(KeyLevel(level, "GenGaloisKeys").status());
  GaloisKeys gk;
  gk.fingerprint = params_->fingerprint();
  std::vector<uint64_t> elements;
  for (int r : rotations) {
    elements.push_back(ring::GaloisElementForRotation(r, params_->log_n()));
  }
  if (conjugation) {
    elements.push_back(ring::GaloisElementForConjugation(params_->log_n()));
  }
  for (uint64_t g : elements) {
    if (g == 1 || gk.Has(g)) continue;
    BF_ASSIGN_OR_RETURN(SwitchingKey key, GenGaloisKey(sk, g, level));
    gk.keys.emplace(g, std::move(key));
  }
  return gk;
}

absl::StatusOr<std::shared_ptr<const EvaluationKeys>> EvaluationKeys::Create(
    ParametersPtr params, std::optional<RelinKey> relin, GaloisKeys galois) {
  constexpr absl::string_view kOp = "EvaluationKeys";
  if (params == nullptr) {
    return absl::InvalidArgumentError("EvaluationKeys: no parameters");
  }
  if (relin) {
    BF_RETURN_IF_ERROR(
        ValidateSwitchingKey(*params, relin->key, kOp, "relinearization key"));
  }
  // An empty set may carry no fingerprint; a non-empty one must match.
  if (!galois.keys.empty() || galois.fingerprint != 0) {
    BF_RETURN_IF_ERROR(ValidateGaloisKeys(*params, galois, kOp));
  }
  auto keys = std::shared_ptr<EvaluationKeys>(new EvaluationKeys());
  keys->params_ = std::move(params);
  keys->relin_ = std::move(relin);
  keys->galois_ = std::move(galois);
  return std::shared_ptr<const EvaluationKeys>(std::move(keys));
}

const SwitchingKey* EvaluationKeys::galois(uint64_t galois_element) const {
  auto it = galois_.keys.find(galois_element);
  return it == galois_.keys.end() ? nullptr : &it->second;
}

std::vector<uint64_t> EvaluationKeys::galois_elements() const {
  std::vector<uint64_t> out;
  for (const auto& [g, key] : galois_.keys) out.push_back(g);
  return out;
}

}  // namespace blindfold::ckks
