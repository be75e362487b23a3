#include "ckks/noise_flooding.h"

#include "ckks/internal/access.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/random.h"

namespace blindfold::ckks {

absl::Status ValidateDecryptionOptions(const Parameters& params,
                                       const DecryptionOptions& o) {
  if (!o.flood_noise) return absl::OkStatus();
  if (o.security_bits < 0 || o.security_bits > 128) {
    return absl::InvalidArgumentError(absl::StrCat(
        "DecryptionOptions: security_bits ", o.security_bits, " outside [0, 128]"));
  }
  if (o.max_decryptions_per_ciphertext < 1 || o.max_decryptions_per_ciphertext > (1 << 20)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "DecryptionOptions: max_decryptions_per_ciphertext ",
        o.max_decryptions_per_ciphertext, " outside [1, 2^20]"));
  }
  if (!std::isnan(o.noise_log2_bound) && !(o.noise_log2_bound >= 0 && o.noise_log2_bound <= 60)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "DecryptionOptions: noise_log2_bound ", o.noise_log2_bound, " outside [0, 60]"));
  }
  const double log2_sigma = FloodingLog2Stddev(params, o);
  const double log2_q0 = std::log2(static_cast<double>(params.q(0)));
  if (!(log2_sigma + std::log2(18.0) < log2_q0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "DecryptionOptions: flooding deviation 2^", log2_sigma,
        " does not fit below q_0 / 18 (2^", log2_q0 - std::log2(18.0), ")"));
  }
  return absl::OkStatus();
}

double DefaultNoiseLog2Bound(const Parameters& params) {
  const ParametersLiteral& lit = params.literal();
  const double n = static_cast<double>(params.n());
  const double w_s = lit.secret == SecretDistribution::kSparseTernary
                         ? lit.secret_hamming_weight / n
                         : 2.0 / 3.0;
  const double fresh_stddev = lit.error_sigma * std::sqrt(1 + n * 2.0 / 3.0 + n * w_s);
  return std::log2(4 * 6 * fresh_stddev);
}

double FloodingLog2Stddev(const Parameters& params, const DecryptionOptions& o) {
  const double log2_b =
      std::isnan(o.noise_log2_bound) ? DefaultNoiseLog2Bound(params) : o.noise_log2_bound;
  return o.security_bits / 2.0 + 0.5 * std::log2(o.max_decryptions_per_ciphertext) + log2_b;
}

double FloodingSlotStddev(const Parameters& params, const DecryptionOptions& o,
                          Scale scale) {
  if (!o.flood_noise) return 0;
  return std::exp2(FloodingLog2Stddev(params, o)) *
         std::sqrt(static_cast<double>(params.n()) / 2) / scale.value();
}

void FloodNoise(const Parameters& params, const DecryptionOptions& o, ring::RnsPoly* m) {
  if (!o.flood_noise) return;
  const double sigma = std::exp2(FloodingLog2Stddev(params, o));
  const std::size_t n = params.n();
  Prng prng(Seed::FromOs(), 0);
  // Uniform in (0, 1]: 53 random bits, never 0 (log below).
  auto uniform = [&prng] {
    return (static_cast<double>(prng.NextU64() >> 11) + 1) * 0x1.0p-53;
  };
  // Box-Muller: two independent standard normals per pair of uniforms. The
  // tail beyond 9 sigma (probability < 2^-60) is clamped, so |f_i| < q_0 / 2
  // (ValidateDecryptionOptions keeps 9 sigma below q_0 / 2).
  std::vector<int64_t> f(n);
  const double clamp = 9 * sigma;
  for (std::size_t i = 0; i < n; i += 2) {
    const double r = std::sqrt(-2 * std::log(uniform()));
    const double theta = 2 * M_PI * uniform();
    const double g0 = std::clamp(sigma * r * std::cos(theta), -clamp, clamp);
    const double g1 = std::clamp(sigma * r * std::sin(theta), -clamp, clamp);
    f[i] = std::llround(g0);
    if (i + 1 < n) f[i + 1] = std::llround(g1);
  }
  const int nq = m->num_q();
  ring::RnsPoly fp(n, nq, 0, false);
  ring::SetFromSigned(internal::Access::ring(params), f, &fp);
  SecureZero(f.data(), f.size() * sizeof(int64_t));
  ring::ToNtt(internal::Access::ring(params), &fp);
  ring::Add(internal::Access::ring(params), *m, fp, m);
  fp.SecureWipe();
}

void RoundToBits(std::span<double> values, int bits) {
  for (double& v : values) {
    if (std::isfinite(v)) v = std::ldexp(std::nearbyint(std::ldexp(v, bits)), -bits);
  }
}

void RoundToBits(std::span<std::complex<double>> values, int bits) {
  for (auto& v : values) {
    double re = v.real(), im = v.imag();
    RoundToBits(std::span<double>(&re, 1), bits);
    RoundToBits(std::span<double>(&im, 1), bits);
    v = {re, im};
  }
}

}  // namespace blindfold::ckks
