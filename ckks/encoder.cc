#include "ckks/encoder.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "base/target.h"
#include "base/thread_pool.h"
#include "ckks/internal/access.h"
#include "ckks/internal/encoding.h"
#include "ckks/validation.h"
#include "math/modarith.h"
#include "math/vec_ops.h"

namespace blindfold::ckks {

using internal::Access;

using math::u128;

namespace {

// Bit-reversal permutation of two parallel arrays of length n.
void BitReversePermute(double* re, double* im, std::size_t n) {
  for (std::size_t i = 1, j = 0; i < n; ++i) {
    std::size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      std::swap(re[i], re[j]);
      std::swap(im[i], im[j]);
    }
  }
}

// r[k] = -r[k] mod q where negative[k] is all ones (r[k] < q < 2^63):
// q - r[k] for r[k] != 0, by masks alone so that it vectorises.
BLINDFOLD_CLONES_AVX512_AVX2
void NegateWhere(uint64_t* r, const uint64_t* negative, std::size_t n, uint64_t q) {
  for (std::size_t k = 0; k < n; ++k) {
    const uint64_t x = r[k];
    const uint64_t nonzero = uint64_t{0} - ((uint64_t{0} - x) >> 63);
    r[k] = x ^ ((x ^ (q - x)) & negative[k] & nonzero);
  }
}

// The special FFT's butterflies on split real/imaginary arrays, one stage
// table (tw_re, tw_im: the forward twiddles of stage len at offset
// len/2 - 1) for every length. Plain double arithmetic (no std::complex
// product, whose NaN check keeps it from vectorising), cloned per ISA.
BLINDFOLD_CLONES_AVX512_AVX2
void EmbedStages(double* re, double* im, std::size_t size, const double* tw_re,
                 const double* tw_im) {
  for (std::size_t len = 2; len <= size; len <<= 1) {
    const std::size_t lenh = len >> 1;
    const double* wr = tw_re + lenh - 1;
    const double* wi = tw_im + lenh - 1;
    for (std::size_t i = 0; i < size; i += len) {
      double* ar = re + i;
      double* ai = im + i;
      double* br = re + i + lenh;
      double* bi = im + i + lenh;
      for (std::size_t j = 0; j < lenh; ++j) {
        const double vr = br[j] * wr[j] - bi[j] * wi[j];
        const double vi = br[j] * wi[j] + bi[j] * wr[j];
        const double ur = ar[j], ui = ai[j];
        ar[j] = ur + vr;
        ai[j] = ui + vi;
        br[j] = ur - vr;
        bi[j] = ui - vi;
      }
    }
  }
}

// The inverse butterflies (conjugate twiddles), stages in reverse.
BLINDFOLD_CLONES_AVX512_AVX2
void EmbedInverseStages(double* re, double* im, std::size_t size, const double* tw_re,
                        const double* tw_im) {
  for (std::size_t len = size; len >= 2; len >>= 1) {
    const std::size_t lenh = len >> 1;
    const double* wr = tw_re + lenh - 1;
    const double* wi = tw_im + lenh - 1;
    for (std::size_t i = 0; i < size; i += len) {
      double* ar = re + i;
      double* ai = im + i;
      double* br = re + i + lenh;
      double* bi = im + i + lenh;
      for (std::size_t j = 0; j < lenh; ++j) {
        const double ur = ar[j] + br[j], ui = ai[j] + bi[j];
        const double dr = ar[j] - br[j], di = ai[j] - bi[j];
        ar[j] = ur;
        ai[j] = ui;
        // (dr + i di) * conj(w)
        br[j] = dr * wr[j] + di * wi[j];
        bi[j] = di * wr[j] - dr * wi[j];
      }
    }
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
  // Stage len (2 .. N/2) of the special FFT multiplies by
  // xi^(5^j) = ksi_[(5^j mod 4 len) (2N / 4 len)], j < len/2.
  tw_re_.resize(n / 2);
  tw_im_.resize(n / 2);
  for (std::size_t len = 2; len <= n / 2; len <<= 1) {
    const std::size_t lenh = len >> 1, lenq = len << 2, step = m / lenq;
    for (std::size_t j = 0; j < lenh; ++j) {
      const std::complex<double> w = ksi_[(rot_group_[j] % lenq) * step];
      tw_re_[lenh - 1 + j] = w.real();
      tw_im_[lenh - 1 + j] = w.imag();
    }
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

void Encoder::EmbedSplit(double* re, double* im, std::size_t size) const {
  BitReversePermute(re, im, size);
  EmbedStages(re, im, size, tw_re_.data(), tw_im_.data());
}

void Encoder::EmbedInverseSplit(double* re, double* im, std::size_t size) const {
  EmbedInverseStages(re, im, size, tw_re_.data(), tw_im_.data());
  BitReversePermute(re, im, size);
  const double inv = 1.0 / static_cast<double>(size);
  for (std::size_t i = 0; i < size; ++i) {
    re[i] *= inv;
    im[i] *= inv;
  }
}

void Encoder::Embed(std::span<std::complex<double>> vals) const {
  AlignedVector<double> re(vals.size()), im(vals.size());
  for (std::size_t i = 0; i < vals.size(); ++i) {
    re[i] = vals[i].real();
    im[i] = vals[i].imag();
  }
  EmbedSplit(re.data(), im.data(), vals.size());
  for (std::size_t i = 0; i < vals.size(); ++i) vals[i] = {re[i], im[i]};
}

void Encoder::EmbedInverse(std::span<std::complex<double>> vals) const {
  AlignedVector<double> re(vals.size()), im(vals.size());
  for (std::size_t i = 0; i < vals.size(); ++i) {
    re[i] = vals[i].real();
    im[i] = vals[i].imag();
  }
  EmbedInverseSplit(re.data(), im.data(), vals.size());
  for (std::size_t i = 0; i < vals.size(); ++i) vals[i] = {re[i], im[i]};
}

absl::Status Encoder::RoundedCoefficients(std::span<const std::complex<double>> values,
                                          std::size_t slots, int level, Scale scale,
                                          AlignedVector<double>* rounded,
                                          double* max_abs_out) const {
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
  AlignedVector<double> re(slots, 0.0), im(slots, 0.0);  // zero padded
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i].real()) || !std::isfinite(values[i].imag())) {
      return absl::InvalidArgumentError(
          absl::StrCat("Encode: value ", i, " is not finite"));
    }
    re[i] = values[i].real();
    im[i] = values[i].imag();
  }
  EmbedInverseSplit(re.data(), im.data(), slots);

  // Scaled, rounded coefficients (exact integers in doubles); only
  // multiples of gap are nonzero.
  const double delta = scale.value();
  rounded->resize(2 * slots);
  double max_abs = 0;
  for (std::size_t k = 0; k < slots; ++k) {
    (*rounded)[k] = std::round(re[k] * delta);
    (*rounded)[k + slots] = std::round(im[k] * delta);
    max_abs = std::max(max_abs, std::max(std::abs((*rounded)[k]),
                                         std::abs((*rounded)[k + slots])));
  }
  if (!(max_abs < internal::kMaxScaledMagnitude)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Encode: |value x scale| reaches 2^120 (scale ", scale.ToString(), ")"));
  }
  *max_abs_out = max_abs;
  return absl::OkStatus();
}

absl::Status Encoder::Encode(std::span<const std::complex<double>> values,
                             std::size_t slots, int level, Scale scale,
                             Plaintext* out, PlaintextBasis basis) const {
  AlignedVector<double> rounded;
  double max_abs = 0;
  BF_RETURN_IF_ERROR(RoundedCoefficients(values, slots, level, scale, &rounded, &max_abs));
  if (max_abs < 0x1p62) {
    return Expand(MakeCompact(rounded, slots, scale, max_abs), level, out, basis);
  }
  // Magnitudes from 2^62 to 2^120: 128-bit reduction per coefficient.
  const std::size_t n = params_->n();
  const std::size_t gap = n / (2 * slots);
  auto pos = [&](std::size_t k) { return k < slots ? k * gap : n / 2 + (k - slots) * gap; };
  const ring::RingContext& ring = internal::Access::ring(*params_);
  const int np = basis == PlaintextBasis::kQP ? params_->num_p() : 0;
  Access::poly(*out) = ring::RnsPoly(n, level + 1, np, false);
  AlignedVector<__int128> coeff(2 * slots);
  for (std::size_t k = 0; k < 2 * slots; ++k) coeff[k] = static_cast<__int128>(rounded[k]);
  ParallelFor(level + 1 + np, [&](std::size_t i) {
    const int m = Access::poly(*out).modulus_index(static_cast<int>(i), ring);
    const math::Modulus& q = ring.modulus(m);
    uint64_t* dst = Access::poly(*out).limb(i);
    for (std::size_t k = 0; k < 2 * slots; ++k) {
      dst[pos(k)] = internal::ReduceSigned128(coeff[k], q);
    }
    ring.ntt(m).Forward(dst);
  });
  Access::poly(*out).set_ntt(true);
  Access::scale(*out) = scale;
  Access::slots(*out) = slots;
  Access::fingerprint(*out) = params_->fingerprint();
  return absl::OkStatus();
}

absl::StatusOr<CompactPlaintext> Encoder::EncodeCompact(std::span<const double> values,
                                                        std::size_t slots,
                                                        Scale scale) const {
  AlignedVector<std::complex<double>> c(values.begin(), values.end());
  AlignedVector<double> rounded;
  double max_abs = 0;
  BF_RETURN_IF_ERROR(RoundedCoefficients(c, slots, 0, scale, &rounded, &max_abs));
  if (!(max_abs < 0x1p62)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "EncodeCompact: |value x scale| reaches 2^62 (scale ", scale.ToString(), ")"));
  }
  return MakeCompact(rounded, slots, scale, max_abs);
}

CompactPlaintext Encoder::MakeCompact(const AlignedVector<double>& rounded,
                                      std::size_t slots, Scale scale,
                                      double max_abs) const {
  CompactPlaintext r;
  r.coeffs_.resize(2 * slots);
  for (std::size_t k = 0; k < 2 * slots; ++k) {
    r.coeffs_[k] = static_cast<int64_t>(rounded[k]);
  }
  r.slots_ = slots;
  r.scale_ = scale;
  r.bits_ = std::max(1, static_cast<int>(std::ceil(std::log2(max_abs + 1))));
  r.fingerprint_ = params_->fingerprint();
  return r;
}

absl::Status Encoder::Expand(const CompactPlaintext& compact, int level, Plaintext* out,
                             PlaintextBasis basis) const {
  const std::size_t n = params_->n();
  const std::size_t slots = compact.slots_;
  if (compact.fingerprint_ != params_->fingerprint() || compact.coeffs_.size() != 2 * slots ||
      !IsValidSlotCount(slots, n)) {
    return absl::InvalidArgumentError(
        "Expand: a compact plaintext of other parameters, or empty");
  }
  if (level < 0 || level > params_->max_level()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Expand: level ", level, " outside [0, ", params_->max_level(), "]"));
  }
  const std::size_t gap = n / (2 * slots);
  auto pos = [&](std::size_t k) { return k < slots ? k * gap : n / 2 + (k - slots) * gap; };
  const ring::RingContext& ring = internal::Access::ring(*params_);
  const int np = basis == PlaintextBasis::kQP ? params_->num_p() : 0;
  Access::poly(*out) = ring::RnsPoly(n, level + 1, np, false);
  // Magnitudes below 2^62: one vector reduction per limb, then the signs.
  AlignedVector<uint64_t> mag(2 * slots), negative(2 * slots);
  for (std::size_t k = 0; k < 2 * slots; ++k) {
    const int64_t c = compact.coeffs_[k];
    mag[k] = c < 0 ? uint64_t{0} - static_cast<uint64_t>(c) : static_cast<uint64_t>(c);
    negative[k] = c < 0 ? ~uint64_t{0} : 0;
  }
  ParallelFor(level + 1 + np, [&](std::size_t i) {
    const int m = Access::poly(*out).modulus_index(static_cast<int>(i), ring);
    const math::Modulus& q = ring.modulus(m);
    uint64_t* dst = Access::poly(*out).limb(i);
    AlignedVector<uint64_t> r(gap == 1 ? 0 : 2 * slots);
    uint64_t* red = gap == 1 ? dst : r.data();
    math::ReduceVec(mag.data(), red, 2 * slots, q, compact.bits_);
    NegateWhere(red, negative.data(), 2 * slots, q.value);
    if (gap != 1) {
      for (std::size_t k = 0; k < 2 * slots; ++k) dst[pos(k)] = red[k];
    }
    ring.ntt(m).Forward(dst);
  });
  Access::poly(*out).set_ntt(true);
  Access::scale(*out) = compact.scale_;
  Access::slots(*out) = slots;
  Access::fingerprint(*out) = params_->fingerprint();
  return absl::OkStatus();
}

absl::Status Encoder::Encode(std::span<const double> values, std::size_t slots,
                             int level, Scale scale, Plaintext* out,
                             PlaintextBasis basis) const {
  AlignedVector<std::complex<double>> c(values.begin(), values.end());
  return Encode(c, slots, level, scale, out, basis);
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
  const std::size_t slots = Access::slots(pt);
  AlignedVector<double> re(slots), im(slots);
  for (std::size_t k = 0; k < slots; ++k) {
    re[k] = static_cast<double>(c[k] * inv_scale);
    im[k] = static_cast<double>(c[k + slots] * inv_scale);
  }
  EmbedSplit(re.data(), im.data(), slots);
  std::vector<std::complex<double>> w(slots);
  for (std::size_t k = 0; k < slots; ++k) w[k] = {re[k], im[k]};
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
