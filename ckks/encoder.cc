#include "ckks/encoder.h"

#include <cmath>
#include <numbers>

#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "base/thread_pool.h"
#include "ckks/internal/access.h"
#include "ckks/internal/encoding.h"
#include "ckks/validation.h"
#include "math/modarith.h"

namespace blindfold::ckks {

using internal::Access;

using math::u128;

namespace {

void BitReversePermute(std::span<std::complex<double>> v) {
  const std::size_t n = v.size();
  for (std::size_t i = 1, j = 0; i < n; ++i) {
    std::size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(v[i], v[j]);
  }
}


}  // namespace

struct Encoder::CrtLevel {
  std::vector<uint64_t> hat_inv;          // (Q_l/q_i)^-1 mod q_i
  std::vector<uint64_t> hat_inv_shoup;
  std::vector<math::u128> hat_mod_2_128;  // Q_l/q_i mod 2^128
  math::u128 q_mod_2_128;
  std::vector<long double> inv_q;         // 1 / q_i
};

Encoder::Encoder(ParametersPtr params) : params_(std::move(params)) {
  const std::size_t n = params_->n();
  const std::size_t m = 2 * n;
  ksi_.resize(m + 1);
  for (std::size_t k = 0; k <= m; ++k) {
    const long double angle = 2.0L * std::numbers::pi_v<long double> * k / m;
    ksi_[k] = {static_cast<double>(std::cos(angle)),
               static_cast<double>(std::sin(angle))};
  }
  rot_group_.resize(n / 2);
  uint64_t g = 1;
  for (std::size_t j = 0; j < n / 2; ++j) {
    rot_group_[j] = g;
    g = g * 5 % m;
  }
  const ring::RingContext& ring = internal::Access::ring(*params_);
  auto crt = std::make_shared<std::vector<CrtLevel>>(params_->num_q());
  for (int l = 0; l < params_->num_q(); ++l) {
    CrtLevel& c = (*crt)[l];
    c.q_mod_2_128 = 1;
    for (int i = 0; i <= l; ++i) c.q_mod_2_128 *= ring.q(i).value;
    for (int i = 0; i <= l; ++i) {
      const math::Modulus& qi = ring.q(i);
      u128 hat = 1;
      uint64_t hat_mod_qi = 1;
      for (int k = 0; k <= l; ++k) {
        if (k == i) continue;
        hat *= ring.q(k).value;
        hat_mod_qi = math::MulMod(hat_mod_qi, ring.q(k).value % qi.value, qi);
      }
      c.hat_mod_2_128.push_back(hat);
      const uint64_t inv = math::InvMod(hat_mod_qi, qi);
      c.hat_inv.push_back(inv);
      c.hat_inv_shoup.push_back(math::ShoupPrecompute(inv, qi.value));
      c.inv_q.push_back(1.0L / qi.value);
    }
  }
  crt_ = std::move(crt);
}

void Encoder::Embed(std::span<std::complex<double>> vals) const {
  const std::size_t size = vals.size();
  const std::size_t m = 2 * params_->n();
  BitReversePermute(vals);
  for (std::size_t len = 2; len <= size; len <<= 1) {
    const std::size_t lenh = len >> 1, lenq = len << 2, step = m / lenq;
    for (std::size_t i = 0; i < size; i += len) {
      for (std::size_t j = 0; j < lenh; ++j) {
        const std::size_t idx = (rot_group_[j] % lenq) * step;
        const std::complex<double> u = vals[i + j];
        const std::complex<double> v = vals[i + j + lenh] * ksi_[idx];
        vals[i + j] = u + v;
        vals[i + j + lenh] = u - v;
      }
    }
  }
}

void Encoder::EmbedInverse(std::span<std::complex<double>> vals) const {
  const std::size_t size = vals.size();
  const std::size_t m = 2 * params_->n();
  for (std::size_t len = size; len >= 2; len >>= 1) {
    const std::size_t lenh = len >> 1, lenq = len << 2, step = m / lenq;
    for (std::size_t i = 0; i < size; i += len) {
      for (std::size_t j = 0; j < lenh; ++j) {
        const std::size_t idx = (lenq - (rot_group_[j] % lenq)) * step;
        const std::complex<double> u = vals[i + j] + vals[i + j + lenh];
        const std::complex<double> v =
            (vals[i + j] - vals[i + j + lenh]) * ksi_[idx];
        vals[i + j] = u;
        vals[i + j + lenh] = v;
      }
    }
  }
  BitReversePermute(vals);
  const double inv = 1.0 / static_cast<double>(size);
  for (auto& v : vals) v *= inv;
}

absl::Status Encoder::Encode(std::span<const std::complex<double>> values,
                             std::size_t slots, int level, Scale scale,
                             Plaintext* out) const {
  const std::size_t n = params_->n();
  if (!IsValidSlotCount(slots, n)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Encode: slots = ", slots, " is not a power of two in [1, ", n / 2, "]"));
  }
  if (values.size() > slots) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Encode: ", values.size(), " values for ", slots, " slots"));
  }
  if (level < 0 || level > params_->max_level()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Encode: level ", level, " outside [0, ", params_->max_level(), "]"));
  }
  if (!(scale.value() >= 1.0) || !std::isfinite(scale.value())) {
    return absl::InvalidArgumentError(
        absl::StrCat("Encode: scale ", scale.value(), " is not >= 1"));
  }
  AlignedVector<std::complex<double>> w(slots);  // zero padded
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i].real()) || !std::isfinite(values[i].imag())) {
      return absl::InvalidArgumentError(
          absl::StrCat("Encode: value ", i, " is not finite"));
    }
    w[i] = values[i];
  }
  EmbedInverse(w);

  // Scaled, rounded coefficients; only multiples of gap are nonzero.
  const std::size_t gap = n / (2 * slots);
  const double delta = scale.value();
  AlignedVector<__int128> coeff(2 * slots);  // every entry written below
  constexpr __int128 kSmall = __int128{1} << 62;
  bool small = true;
  for (std::size_t k = 0; k < slots; ++k) {
    if (!internal::ScaleAndRound(w[k].real(), delta, &coeff[k]) ||
        !internal::ScaleAndRound(w[k].imag(), delta, &coeff[k + slots])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Encode: |value x scale| reaches 2^120 (scale ", scale.ToString(), ")"));
    }
    small &= coeff[k] < kSmall && coeff[k] > -kSmall &&
             coeff[k + slots] < kSmall && coeff[k + slots] > -kSmall;
  }

  const ring::RingContext& ring = internal::Access::ring(*params_);
  Access::poly(*out) = ring::RnsPoly(n, level + 1, 0, false);
  ParallelFor(level + 1, [&](std::size_t i) {
    const math::Modulus& q = ring.q(i);
    uint64_t* dst = Access::poly(*out).limb(i);
    for (std::size_t k = 0; k < 2 * slots; ++k) {
      const std::size_t pos = k < slots ? k * gap : n / 2 + (k - slots) * gap;
      dst[pos] = small ? math::FromSigned(static_cast<int64_t>(coeff[k]), q.value)
                       : internal::ReduceSigned128(coeff[k], q);
    }
    ring.ntt(i).Forward(dst);
  });
  Access::poly(*out).set_ntt(true);
  Access::scale(*out) = scale;
  Access::slots(*out) = slots;
  Access::fingerprint(*out) = params_->fingerprint();
  return absl::OkStatus();
}

absl::Status Encoder::Encode(std::span<const double> values, std::size_t slots,
                             int level, Scale scale, Plaintext* out) const {
  AlignedVector<std::complex<double>> c(values.begin(), values.end());
  return Encode(c, slots, level, scale, out);
}

absl::StatusOr<Plaintext> Encoder::EncodeNew(std::span<const double> values) const {
  Plaintext pt;
  absl::Status s = Encode(values, params_->max_slots(), params_->max_level(),
                          params_->default_scale(), &pt);
  if (!s.ok()) return s;
  return pt;
}

void Encoder::ComposeCrt(const ring::RnsPoly& coeff, std::size_t gap,
                         AlignedVector<long double>* out) const {
  const int l = coeff.num_q() - 1;
  const CrtLevel& c = (*crt_)[l];
  const std::size_t n = coeff.n();
  const std::size_t count = n / gap;
  out->resize(count);
  ParallelFor((count + 255) / 256, [&](std::size_t block) {
    const std::size_t end = std::min(count, (block + 1) * 256);
    for (std::size_t t = block * 256; t < end; ++t) {
      const std::size_t j = t * gap;
      long double frac = 0;
      u128 acc = 0;
      for (int i = 0; i <= l; ++i) {
        const uint64_t y = math::MulModShoup(coeff.limb(i)[j], c.hat_inv[i],
                                             c.hat_inv_shoup[i],
                                             params_->q(i));
        frac += y * c.inv_q[i];
        acc += c.hat_mod_2_128[i] * y;
      }
      const u128 v = static_cast<u128>(std::llround(frac));
      acc -= v * c.q_mod_2_128;
      (*out)[t] = static_cast<long double>(static_cast<__int128>(acc));
    }
  });
}

absl::StatusOr<std::vector<std::complex<double>>> Encoder::DecodeComplex(
    const Plaintext& pt) const {
  const std::size_t n = params_->n();
  BF_RETURN_IF_ERROR(ValidatePlaintext(*params_, pt, "Decode"));
  ring::RnsPoly coeff = Access::poly(pt);
  ring::FromNtt(internal::Access::ring(*params_), &coeff);
  const std::size_t gap = n / (2 * Access::slots(pt));
  AlignedVector<long double> c;
  ComposeCrt(coeff, gap, &c);
  const long double inv_scale = 1.0L / Access::scale(pt).value();
  std::vector<std::complex<double>> w(Access::slots(pt));
  for (std::size_t k = 0; k < Access::slots(pt); ++k) {
    w[k] = {static_cast<double>(c[k] * inv_scale),
            static_cast<double>(c[k + Access::slots(pt)] * inv_scale)};
  }
  Embed(w);
  return w;
}

absl::StatusOr<std::vector<double>> Encoder::Decode(const Plaintext& pt) const {
  auto z = DecodeComplex(pt);
  if (!z.ok()) return z.status();
  std::vector<double> re(z->size());
  for (std::size_t i = 0; i < re.size(); ++i) re[i] = (*z)[i].real();
  return re;
}

}  // namespace blindfold::ckks
