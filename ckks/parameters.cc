#include "ckks/parameters.h"

#include <sodium.h>

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "math/primes.h"

namespace blindfold::ckks {

std::string Scale::ToString() const {
  return absl::StrFormat("2^%.4f", log2());
}

int MaxLogQP128(int log_n) {
  switch (log_n) {
    case 13: return 218;
    case 14: return 438;
    case 15: return 881;
    case 16: return 1747;  // ePrint 2024/463; the 2018 standard stops at 2^15
    default: return 0;
  }
}

namespace {

ParametersLiteral Make(int log_n, int first, int rest_bits, int rest_count,
                       int p_bits, int p_count, int scale) {
  ParametersLiteral lit;
  lit.log_n = log_n;
  lit.log_q.push_back(first);
  for (int i = 0; i < rest_count; ++i) lit.log_q.push_back(rest_bits);
  for (int i = 0; i < p_count; ++i) lit.log_p.push_back(p_bits);
  lit.log_default_scale = scale;
  return lit;
}

}  // namespace

ParametersLiteral PresetLiteral(Preset preset) {
  switch (preset) {
    case Preset::kCkks128LogN13LogQP180: return Make(13, 50, 40, 2, 50, 1, 40);
    case Preset::kCkks128LogN14LogQP380: return Make(14, 50, 40, 7, 50, 1, 40);
    case Preset::kCkks128LogN14LogQP430: return Make(14, 50, 40, 7, 50, 2, 40);
    case Preset::kCkks128LogN15LogQP872: return Make(15, 50, 38, 19, 50, 2, 38);
    case Preset::kCkks128LogN16LogQP1690: return Make(16, 50, 40, 36, 50, 4, 40);
  }
  return {};
}

std::string PresetName(Preset preset) {
  switch (preset) {
    case Preset::kCkks128LogN13LogQP180: return "Ckks128LogN13LogQP180";
    case Preset::kCkks128LogN14LogQP380: return "Ckks128LogN14LogQP380";
    case Preset::kCkks128LogN14LogQP430: return "Ckks128LogN14LogQP430";
    case Preset::kCkks128LogN15LogQP872: return "Ckks128LogN15LogQP872";
    case Preset::kCkks128LogN16LogQP1690: return "Ckks128LogN16LogQP1690";
  }
  return "unknown";
}

ParametersLiteral TestPresetLiteral(TestPreset preset) {
  switch (preset) {
    case TestPreset::kTestInsecureLogN10: return Make(10, 50, 40, 3, 50, 1, 40);
    case TestPreset::kTestInsecureLogN11P2: return Make(11, 50, 40, 5, 50, 2, 40);
  }
  return {};
}

absl::StatusOr<std::shared_ptr<const Parameters>> Parameters::Create(
    const ParametersLiteral& literal) {
  return Build(literal, /*enforce_security=*/true);
}

absl::StatusOr<std::shared_ptr<const Parameters>>
Parameters::CreateInsecureForTesting(const ParametersLiteral& literal) {
  return Build(literal, /*enforce_security=*/false);
}

absl::StatusOr<std::shared_ptr<const Parameters>> Parameters::Build(
    const ParametersLiteral& literal, bool enforce_security) {
  const int log_n = literal.log_n;
  const auto fail = [](auto&&... parts) {
    return absl::InvalidArgumentError(absl::StrCat("Parameters: ", parts...));
  };
  if (enforce_security && (log_n < 13 || log_n > 16)) {
    return fail("N = 2^", log_n,
                " has no 128-bit bound (supported: 2^13..2^16); use "
                "CreateInsecureForTesting for toy rings");
  }
  if (log_n < kMinLogN || log_n > kMaxLogN) {
    return fail("log_n = ", log_n, " outside [", kMinLogN, ", ", kMaxLogN, "]");
  }
  // Bound the work below (prime generation, NTT tables) before doing any.
  {
    const std::size_t nq = literal.q.empty() ? literal.log_q.size() : literal.q.size();
    const std::size_t np = literal.p.empty() ? literal.log_p.size() : literal.p.size();
    if (nq + np > static_cast<std::size_t>(kMaxPrimes)) {
      return fail(nq, " + ", np, " primes, at most ", kMaxPrimes, " in all");
    }
    if ((std::size_t{1} << log_n) * (nq + np) > kMaxRingWords) {
      return fail("N = 2^", log_n, " with ", nq + np, " primes needs ",
                  (std::size_t{1} << log_n) * (nq + np),
                  " words per polynomial, at most ", kMaxRingWords);
    }
  }
  const uint64_t two_n = uint64_t{2} << log_n;

  ParametersLiteral lit = literal;
  if (lit.q.empty()) {
    if (lit.log_q.empty()) return fail("no ciphertext primes (q or log_q)");
    // Generate per distinct bit size, largest first, never reusing a prime.
    std::vector<uint64_t> used;
    for (auto* sizes : {&lit.log_q, &lit.log_p}) {
      std::vector<uint64_t>& out = sizes == &lit.log_q ? lit.q : lit.p;
      if (sizes == &lit.log_p && !lit.p.empty()) continue;
      for (int bits : *sizes) {
        auto primes = math::GenerateNttPrimes(bits, 1, two_n, used);
        if (!primes.ok()) return fail(primes.status().message());
        out.push_back((*primes)[0]);
        used.push_back((*primes)[0]);
      }
    }
  } else if (lit.p.empty() && !lit.log_p.empty()) {
    for (int bits : lit.log_p) {
      std::vector<uint64_t> used = lit.q;
      used.insert(used.end(), lit.p.begin(), lit.p.end());
      auto primes = math::GenerateNttPrimes(bits, 1, two_n, used);
      if (!primes.ok()) return fail(primes.status().message());
      lit.p.push_back((*primes)[0]);
    }
  }
  if (lit.p.empty()) {
    return fail("no special prime (p or log_p): key switching needs |P| >= 1");
  }
  if (lit.q.size() + lit.p.size() > static_cast<std::size_t>(kMaxPrimes)) {
    return fail(lit.q.size(), " + ", lit.p.size(), " primes, at most ",
                kMaxPrimes, " in all");
  }
  {
    // dnum = ceil(|Q| / |P|) digits of |P| primes (ring/basis.h).
    const std::size_t dnum = (lit.q.size() + lit.p.size() - 1) / lit.p.size();
    if (dnum > static_cast<std::size_t>(kMaxDnum)) {
      return fail("dnum = ", dnum, " key-switching digits (", lit.q.size(),
                  " Q primes / ", lit.p.size(), " P primes), at most ", kMaxDnum);
    }
  }
  for (const auto* primes : {&lit.q, &lit.p}) {
    for (uint64_t v : *primes) {
      if (v < 3 || v >> math::kMaxModulusBits != 0) {
        return fail("prime ", v, " outside [3, 2^", math::kMaxModulusBits, ")");
      }
    }
  }
  if (lit.secret != SecretDistribution::kUniformTernary &&
      lit.secret != SecretDistribution::kSparseTernary) {
    return fail("unknown secret distribution ", static_cast<int>(lit.secret));
  }
  if (lit.error != ring::ErrorDistribution::kDiscreteGaussian &&
      lit.error != ring::ErrorDistribution::kCenteredBinomial) {
    return fail("unknown error distribution ", static_cast<int>(lit.error));
  }
  lit.log_q.clear();
  lit.log_p.clear();
  for (uint64_t v : lit.q) lit.log_q.push_back(64 - __builtin_clzll(v));
  for (uint64_t v : lit.p) lit.log_p.push_back(64 - __builtin_clzll(v));

  double log_qp = 0;
  for (uint64_t v : lit.q) log_qp += std::log2(static_cast<double>(v));
  for (uint64_t v : lit.p) log_qp += std::log2(static_cast<double>(v));
  const int bound = MaxLogQP128(log_n);
  if (enforce_security) {
    if (log_qp > bound) {
      return fail(absl::StrFormat(
          "N = 2^%d with log2(QP) = %.2f exceeds the 128-bit bound %d for "
          "ternary secrets (HomomorphicEncryption.org standard)",
          log_n, log_qp, bound));
    }
    if (lit.secret != SecretDistribution::kUniformTernary) {
      return fail("sparse secrets are outside the standard's ternary bounds; "
                  "only uniform ternary secrets are accepted as 128-bit");
    }
  }
  if (lit.secret == SecretDistribution::kSparseTernary &&
      (lit.secret_hamming_weight < 1 ||
       lit.secret_hamming_weight > (1 << log_n))) {
    return fail("secret_hamming_weight = ", lit.secret_hamming_weight,
                " outside [1, N]");
  }
  if (!(lit.error_sigma >= 1.0 && lit.error_sigma <= 64.0)) {
    return fail("error_sigma = ", lit.error_sigma, " outside [1, 64]");
  }
  const bool standard_sigma = lit.error_sigma >= kMinStandardErrorSigma &&
                              lit.error_sigma <= kMaxStandardErrorSigma;
  if (enforce_security && !standard_sigma) {
    return fail(absl::StrFormat(
        "error_sigma = %g is not the standard %.1f (accepted: [%.2f, %.2f]); "
        "the 128-bit bounds assume it. Use CreateInsecureForTesting",
        lit.error_sigma, kStandardErrorSigma,
        kMinStandardErrorSigma, kMaxStandardErrorSigma));
  }
  if (lit.log_default_scale < 1 || lit.log_default_scale >= 64 - __builtin_clzll(lit.q[0])) {
    return fail("default scale 2^", lit.log_default_scale,
                " must be at least 2^1 and below the first prime (",
                64 - __builtin_clzll(lit.q[0]), " bits)");
  }

  auto ring = ring::RingContext::Create(log_n, lit.q, lit.p);
  if (!ring.ok()) return fail(ring.status().message());

  auto params = std::shared_ptr<Parameters>(new Parameters());
  params->log_n_ = log_n;
  params->literal_ = lit;
  params->default_scale_ = Scale::FromLog2(lit.log_default_scale);
  params->log_qp_ = log_qp;
  params->secure_ = bound > 0 && log_qp <= bound && standard_sigma &&
                    lit.secret == SecretDistribution::kUniformTernary;
  params->ring_ = *std::move(ring);
  params->decomposition_ =
      std::make_unique<ring::HybridDecomposition>(params->ring_);

  // Fingerprint: BLAKE2b-64 over (log_n, |Q|, Q, |P|, P), little endian.
  std::vector<uint64_t> words = {static_cast<uint64_t>(log_n), lit.q.size()};
  words.insert(words.end(), lit.q.begin(), lit.q.end());
  words.push_back(lit.p.size());
  words.insert(words.end(), lit.p.begin(), lit.p.end());
  unsigned char digest[8];
  crypto_generichash(digest, sizeof digest,
                     reinterpret_cast<const unsigned char*>(words.data()),
                     words.size() * sizeof(uint64_t), nullptr, 0);
  std::memcpy(&params->fingerprint_, digest, 8);

  const int L = static_cast<int>(lit.q.size());
  params->rescale_inv_.resize(L);
  for (int l = 1; l < L; ++l) {
    for (int i = 0; i < l; ++i) {
      const math::Modulus& qi = params->ring_->q(i);
      params->rescale_inv_[l].push_back(
          math::InvMod(params->ring_->q(l).value % qi.value, qi));
    }
  }
  return std::shared_ptr<const Parameters>(std::move(params));
}

std::string Parameters::ToString() const {
  return absl::StrFormat(
      "N=2^%d slots=%d |Q|=%d |P|=%d dnum=%d log2(QP)=%.1f scale=2^%d%s",
      log_n_, static_cast<int>(max_slots()), num_q(), num_p(), dnum(), log_qp_,
      literal_.log_default_scale, secure_ ? " (128-bit)" : " (INSECURE)");
}

}  // namespace blindfold::ckks
