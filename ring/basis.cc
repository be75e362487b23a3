#include "ring/basis.h"

#include <algorithm>
#include <cmath>

#include "base/check.h"
#include "base/target.h"
#include "base/thread_pool.h"
#include "math/vec_ops.h"

namespace blindfold::ring {

using math::Modulus;
using math::u128;

BasisConverter::BasisConverter(const RingContext& ctx, std::vector<int> source)
    : ctx_(&ctx), source_(std::move(source)) {
  const int k = static_cast<int>(source_.size());
  const int total = ctx.num_q() + ctx.num_p();
  inv_hat_.resize(k);
  for (int i = 0; i < k; ++i) {
    const Modulus& bi = ctx.modulus(source_[i]);
    uint64_t hat = 1;
    for (int j = 0; j < k; ++j) {
      if (j != i) hat = math::MulMod(hat, ctx.modulus(source_[j]).value % bi.value, bi);
    }
    inv_hat_[i] = math::InvMod(hat, bi);
    y_bits_ = std::max(y_bits_, bi.bits);
  }
  hat_.assign(total, {});
  for (int t = 0; t < total; ++t) {
    if (std::find(source_.begin(), source_.end(), t) != source_.end()) continue;
    const Modulus& mt = ctx.modulus(t);
    hat_[t].resize(k);
    for (int i = 0; i < k; ++i) {
      uint64_t hat = 1 % mt.value;
      for (int j = 0; j < k; ++j) {
        if (j != i) hat = math::MulMod(hat, ctx.modulus(source_[j]).value % mt.value, mt);
      }
      hat_[t][i] = hat;
    }
  }
}

void BasisConverter::Convert(const uint64_t* const* src,
                             std::span<const int> targets,
                             uint64_t* const* dst) const {
  const std::size_t n = ctx_->n();
  const int k = static_cast<int>(source_.size());
  if (k == 1) {
    // B/b_0 = 1: the conversion is a plain reduction.
    ParallelFor(targets.size(), [&](std::size_t t) {
      math::ReduceVec(src[0], dst[t], n, ctx_->modulus(targets[t]),
                      ctx_->modulus(source_[0]).bits);
    });
    return;
  }
  thread_local AlignedVector<uint64_t> y;
  y.resize(n * k);
  uint64_t* yp = y.data();  // thread_local: take the caller's buffer here
  ParallelFor(k, [&](std::size_t i) {
    math::MulScalarModVec(src[i], inv_hat_[i], yp + n * i, n,
                          ctx_->modulus(source_[i]));
  });
  std::vector<const uint64_t*> ys(k);
  int y_bits = 0;  // y_i < b_i
  for (int i = 0; i < k; ++i) {
    ys[i] = yp + n * i;
    y_bits = std::max(y_bits, ctx_->modulus(source_[i]).bits);
  }
  ParallelFor(targets.size(), [&](std::size_t t) {
    BF_DCHECK(!hat_[targets[t]].empty());
    math::DotScalarModVec(ys.data(), hat_[targets[t]].data(), k, dst[t], n,
                          ctx_->modulus(targets[t]), y_bits);
  });
}

void BasisConverter::ScaleSource(int i, const uint64_t* src, uint64_t* y) const {
  math::MulScalarModVec(src, inv_hat_[i], y, ctx_->n(), ctx_->modulus(source_[i]));
}

void BasisConverter::ConvertOne(const uint64_t* const* y, int target,
                                uint64_t* dst) const {
  const std::size_t n = ctx_->n();
  if (source_.size() == 1) {
    math::ReduceVec(y[0], dst, n, ctx_->modulus(target), y_bits_);
    return;
  }
  BF_DCHECK(!hat_[target].empty());
  math::DotScalarModVec(y, hat_[target].data(), static_cast<int>(source_.size()), dst, n,
                        ctx_->modulus(target), y_bits_);
}

namespace {

// floor(B/2) mod m for B the product of the primes `idx` (all odd, so
// floor(B/2) = (B - 1)/2 = (B mod m - 1) * 2^-1 mod m, with 2^-1 = (m+1)/2).
uint64_t HalfProductMod(const RingContext& ctx, std::span<const int> idx,
                        const Modulus& m) {
  uint64_t prod = 1 % m.value;
  for (int g : idx) prod = math::MulMod(prod, ctx.modulus(g).value % m.value, m);
  const uint64_t b_minus_1 = prod == 0 ? m.value - 1 : prod - 1;
  return math::MulMod(b_minus_1, (m.value + 1) / 2, m);
}

// Element-wise adds for ModUp's and ModDown's rounding offsets. The math/
// scalar kernel compiles to one word per iteration at the x86-64 baseline;
// these run once per limb of every key switch, so they are cloned per ISA
// (AVX-512F / AVX2 / baseline, chosen at load time; x86-64 builds only,
// base/target.h) to vectorise. Results
// are the same on every clone.
BLINDFOLD_CLONES_AVX512_AVX2
void AddConstMod(const uint64_t* __restrict a, uint64_t c,
                 uint64_t* __restrict out, std::size_t n, uint64_t q) {
  for (std::size_t j = 0; j < n; ++j) {
    const uint64_t s = a[j] + c;
    out[j] = s >= q ? s - q : s;
  }
}

BLINDFOLD_CLONES_AVX512_AVX2
void AddConstModInPlace(uint64_t* a, uint64_t c, std::size_t n, uint64_t q) {
  for (std::size_t j = 0; j < n; ++j) {
    const uint64_t s = a[j] + c;
    a[j] = s >= q ? s - q : s;
  }
}

// a[j] += table[idx[j]] mod q.
BLINDFOLD_CLONES_AVX512_AVX2
void AddTableModInPlace(uint64_t* __restrict a, const uint8_t* __restrict idx,
                        const uint64_t* __restrict table, std::size_t n,
                        uint64_t q) {
  for (std::size_t j = 0; j < n; ++j) {
    const uint64_t s = a[j] + table[idx[j]];
    a[j] = s >= q ? s - q : s;
  }
}

// a[j] += (idx[j] ? t1 : t0) mod q.
BLINDFOLD_CLONES_AVX512_AVX2
void AddSelectModInPlace(uint64_t* __restrict a, const uint8_t* __restrict idx,
                         uint64_t t0, uint64_t t1, std::size_t n, uint64_t q) {
  for (std::size_t j = 0; j < n; ++j) {
    const uint64_t s = a[j] + (idx[j] ? t1 : t0);
    a[j] = s >= q ? s - q : s;
  }
}

// The 32-bit halves of x[j] as the bit patterns of 2^52 + half, so that a
// double subtraction of 2^52 recovers them exactly. (GCC 12 does not
// vectorise a loop that loads integers and computes in doubles; split in
// two loops, each vectorises.)
using AliasingU64 = uint64_t __attribute__((may_alias));
constexpr uint64_t kTwo52Bits = 0x4330000000000000ULL;  // the double 2^52

BLINDFOLD_CLONES_AVX512_AVX2
void SplitHalvesAsDoubles(const uint64_t* __restrict x, AliasingU64* __restrict hi,
                          AliasingU64* __restrict lo, std::size_t n) {
  for (std::size_t j = 0; j < n; ++j) {
    hi[j] = kTwo52Bits | (x[j] >> 32);
    lo[j] = kTwo52Bits | (x[j] & 0xFFFFFFFFULL);
  }
}

// acc[j] (= 0 first) += frac(x[j] c) for c = c_hi 2^32 + c_lo (mod 1), from
// the halves made above (x < 2^61): each product is below 2^32, so the
// fractional part is right to ~2^-19. (no-trapping-math lets GCC vectorise
// floor(); the inputs are finite and nothing here reads FP exception flags.)
#if defined(__clang__)
BLINDFOLD_CLONES_AVX512_AVX2
#else
BLINDFOLD_CLONES_AVX512_AVX2 __attribute__((optimize("no-trapping-math")))
#endif
void AccumulateFraction(const double* __restrict hi, const double* __restrict lo,
                        double c_hi, double c_lo, double* __restrict acc, std::size_t n,
                        bool first) {
  for (std::size_t j = 0; j < n; ++j) {
    double t = (hi[j] - 0x1p52) * c_hi;
    t -= std::floor(t);
    double v = (lo[j] - 0x1p52) * c_lo;
    v -= std::floor(v);
    const double a = (first ? 0.0 : acc[j]) + t + v;
    acc[j] = a - std::floor(t + v);
  }
}

// idx[j] = min(floor(v[j]), max) for v[j] >= 0 (the overflow u).
BLINDFOLD_CLONES_AVX512_AVX2
void FloorToIndex(const double* __restrict v, uint8_t* __restrict idx, std::size_t n,
                  int max) {
  for (std::size_t j = 0; j < n; ++j) {
    const int32_t f = static_cast<int32_t>(v[j]);
    idx[j] = static_cast<uint8_t>(f < max ? f : max);
  }
}

}  // namespace

HybridDecomposition::HybridDecomposition(std::shared_ptr<const RingContext> ctx)
    : ctx_(std::move(ctx)), alpha_(ctx_->num_p()) {
  BF_CHECK(alpha_ >= 1);
  const int L = ctx_->num_q();
  const int digits = (L + alpha_ - 1) / alpha_;
  double log2_p = 0;
  for (int k = 0; k < alpha_; ++k) log2_p += std::log2(static_cast<double>(ctx_->p(k).value));
  converters_.resize(digits);
  for (int j = 0; j < digits; ++j) {
    const int start = j * alpha_;
    const int size = std::min(alpha_, L - start);
    for (int s = 1; s <= size; ++s) {
      std::vector<int> src;
      for (int i = 0; i < s; ++i) src.push_back(start + i);
      converters_[j].push_back(std::make_unique<BasisConverter>(*ctx_, src));
      // Centring offsets of the digit D = prod(src): floor(D/2) mod every
      // modulus (sources add it, targets take it back off). Only digits
      // within 2^8 of P get them: the mean of an uncentred digit costs
      // about (D / P) x 2^-19 at N = 2^14, scale 2^40, invisible below that.
      double log2_d = 0;
      for (int g : src) log2_d += std::log2(static_cast<double>(ctx_->modulus(g).value));
      std::vector<uint64_t> h;
      if (log2_d + 8 > log2_p) {
        h.resize(ctx_->num_q() + ctx_->num_p());
        for (int g = 0; g < static_cast<int>(h.size()); ++g) {
          h[g] = HalfProductMod(*ctx_, src, ctx_->modulus(g));
        }
      }
      half_digit_.push_back(std::move(h));
    }
  }
  std::vector<int> p_idx;
  for (int k = 0; k < alpha_; ++k) p_idx.push_back(L + k);
  p_to_q_ = std::make_unique<BasisConverter>(*ctx_, p_idx);
  p_mod_q_.resize(L);
  p_inv_mod_q_.resize(L);
  for (int i = 0; i < L; ++i) {
    const Modulus& qi = ctx_->q(i);
    uint64_t prod = 1;
    for (int k = 0; k < alpha_; ++k) {
      prod = math::MulMod(prod, ctx_->p(k).value % qi.value, qi);
    }
    p_mod_q_[i] = prod;
    p_inv_mod_q_[i] = math::InvMod(prod, qi);
  }
  half_p_mod_p_.resize(alpha_);
  for (int k = 0; k < alpha_; ++k) half_p_mod_p_[k] = HalfProductMod(*ctx_, p_idx, ctx_->p(k));
  neg_half_p_mod_q_.resize(L);
  for (int i = 0; i < L; ++i) {
    neg_half_p_mod_q_[i] = math::NegMod(HalfProductMod(*ctx_, p_idx, ctx_->q(i)), ctx_->q(i).value);
  }
  // ModDown's exact overflow correction (alpha > 1).
  p_frac_lo_.resize(alpha_);
  p_frac_hi_.resize(alpha_);
  for (int k = 0; k < alpha_; ++k) {
    const Modulus& pk = ctx_->p(k);
    uint64_t hat = 1;
    for (int j = 0; j < alpha_; ++j) {
      if (j != k) hat = math::MulMod(hat, ctx_->p(j).value % pk.value, pk);
    }
    const uint64_t inv_hat = math::InvMod(hat, pk);
    const uint64_t inv_hat_2_32 =
        static_cast<uint64_t>((static_cast<u128>(inv_hat) << 32) % pk.value);
    p_frac_lo_[k] = static_cast<double>(inv_hat) / static_cast<double>(pk.value);
    p_frac_hi_[k] = static_cast<double>(inv_hat_2_32) / static_cast<double>(pk.value);
  }
  neg_half_minus_up_mod_q_.resize(static_cast<std::size_t>(L) * alpha_);
  for (int i = 0; i < L; ++i) {
    const uint64_t q = ctx_->q(i).value;
    for (int u = 0; u < alpha_; ++u) {
      const uint64_t up = math::MulMod(static_cast<uint64_t>(u), p_mod_q_[i], ctx_->q(i));
      neg_half_minus_up_mod_q_[i * alpha_ + u] = math::SubMod(neg_half_p_mod_q_[i], up, q);
    }
  }
}

void HybridDecomposition::ModUp(const RnsPoly& a_coeff, const RnsPoly& a_ntt,
                                int digit, RnsPoly* out) const {
  const int num_q = a_ntt.num_q();
  const std::size_t n = ctx_->n();
  const int start = digit * alpha_;
  const int end = std::min(start + alpha_, num_q);
  BF_DCHECK(start < end && out->num_q() == num_q &&
            out->num_p() == ctx_->num_p() && !a_coeff.is_ntt());
  const BasisConverter& conv = *converters_[digit][end - start - 1];
  // Centred digit: convert [a + h]_D for h = floor(D/2) and subtract h from
  // every extended limb, so the digit's value is in [-D/2, D/2) (+ u D)
  // rather than [0, D). A digit in [0, D) has mean D/2: times the key's
  // error that is a constant-polynomial term whose slot image piles up at
  // the first and last slots (about 2 bits lost per key switch when D ~ P).
  // (Digits much smaller than P skip it: `half` is empty.)
  const std::vector<uint64_t>& half = half_digit_[digit * alpha_ + (end - start - 1)];
  const bool centre = !half.empty();
  thread_local AlignedVector<uint64_t> shifted;
  shifted.resize(centre ? n * (end - start) : 0);
  uint64_t* sp = shifted.data();  // thread_local: take the caller's buffer here
  std::vector<const uint64_t*> src;
  for (int i = start; i < end; ++i) {
    if (!centre) {
      src.push_back(a_coeff.limb(i));
      continue;
    }
    uint64_t* d = sp + n * (i - start);
    AddConstMod(a_coeff.limb(i), half[i], d, n, ctx_->q(i).value);
    src.push_back(d);
  }
  std::vector<int> targets;
  std::vector<uint64_t*> dst;
  std::vector<int> dst_limb;
  for (int i = 0; i < out->num_limbs(); ++i) {
    if (i >= start && i < end) {
      std::copy_n(a_ntt.limb(i), n, out->limb(i));
      continue;
    }
    targets.push_back(out->modulus_index(i, *ctx_));
    dst.push_back(out->limb(i));
    dst_limb.push_back(i);
  }
  conv.Convert(src.data(), targets, dst.data());
  ParallelFor(dst.size(), [&](std::size_t t) {
    if (centre) {
      const uint64_t q = ctx_->modulus(targets[t]).value;
      AddConstModInPlace(dst[t], math::NegMod(half[targets[t]], q), n, q);
    }
    ctx_->ntt(targets[t]).Forward(dst[t]);
  });
  out->set_ntt(true);
}

void HybridDecomposition::ModUpAll(const RnsPoly& a_coeff, const RnsPoly& a_ntt,
                                   std::vector<RnsPoly>* ext) const {
  const int num_q = a_ntt.num_q();
  const int num_p = ctx_->num_p();
  const std::size_t n = ctx_->n();
  const int digits = NumDigits(num_q - 1);
  BF_DCHECK(!a_coeff.is_ntt() && a_coeff.num_q() == num_q);
  ext->resize(digits);
  for (int j = 0; j < digits; ++j) {
    (*ext)[j] = RnsPoly(n, num_q, num_p, true, RnsPoly::Uninitialized{});
  }
  // Digit j covers Q limbs [j alpha, min((j + 1) alpha, num_q)).
  auto digit_end = [&](int j) { return std::min((j + 1) * alpha_, num_q); };
  auto converter = [&](int j) -> const BasisConverter& {
    return *converters_[j][digit_end(j) - j * alpha_ - 1];
  };
  auto half_of = [&](int j) -> const std::vector<uint64_t>& {
    return half_digit_[j * alpha_ + (digit_end(j) - j * alpha_ - 1)];
  };
  // Step 1, per source limb: the centred shift (ModUp) and the converter's
  // scaling, into y; limbs needing neither are read from a_coeff directly.
  AlignedVector<uint64_t> y(n * num_q);
  std::vector<const uint64_t*> src(num_q);
  for (int i = 0; i < num_q; ++i) {
    const int j = i / alpha_;
    const bool own = !half_of(j).empty() || digit_end(j) - j * alpha_ > 1;
    src[i] = own ? y.data() + n * i : a_coeff.limb(i);
  }
  ParallelFor(num_q, [&](std::size_t ii) {
    const int i = static_cast<int>(ii);
    const int j = i / alpha_;
    const std::vector<uint64_t>& half = half_of(j);
    const BasisConverter& conv = converter(j);
    uint64_t* yi = y.data() + n * i;
    const uint64_t* from = a_coeff.limb(i);
    if (!half.empty()) {
      AddConstMod(from, half[i], yi, n, ctx_->q(i).value);
      from = yi;
    }
    if (conv.source().size() > 1) conv.ScaleSource(i - j * alpha_, from, yi);
  });
  // Step 2, per (digit, limb of Q_l P): the digit's own limbs are copied
  // (NTT form already), every other one converted, un-shifted and NTT'd.
  const int limbs = num_q + num_p;
  ParallelFor(static_cast<std::size_t>(digits) * limbs, [&](std::size_t task) {
    const int j = static_cast<int>(task / limbs);
    const int t = static_cast<int>(task % limbs);
    RnsPoly& out = (*ext)[j];
    if (t >= j * alpha_ && t < digit_end(j)) {
      std::copy_n(a_ntt.limb(t), n, out.limb(t));
      return;
    }
    const int g = out.modulus_index(t, *ctx_);
    uint64_t* dst = out.limb(t);
    converter(j).ConvertOne(src.data() + j * alpha_, g, dst);
    const std::vector<uint64_t>& half = half_of(j);
    if (!half.empty()) {
      const uint64_t q = ctx_->modulus(g).value;
      AddConstModInPlace(dst, math::NegMod(half[g], q), n, q);
    }
    ctx_->ntt(g).Forward(dst);
  });
}

void HybridDecomposition::ModDownPrepare(uint64_t* const* p_limbs, uint8_t* u) const {
  const std::size_t n = ctx_->n();
  // Rounding: with h = floor(P/2), round(x/P) = floor((x + h)/P) =
  // ((x + h) - [x + h]_P) / P. Shift the P residues by h before converting
  // (so the converted residue is [x + h]_P in [0, P), plus the fast
  // conversion's u P) and take h back off the converted value in
  // ModDownLimb; the Q limbs then see x - ([x + h]_P - h), i.e. the centred
  // P residue.
  for (int k = 0; k < alpha_; ++k) {
    const int g = ctx_->num_q() + k;
    ctx_->ntt(g).Inverse(p_limbs[k]);
    AddConstModInPlace(p_limbs[k], half_p_mod_p_[k], n, ctx_->modulus(g).value);
  }
  if (alpha_ == 1) return;
  // With alpha > 1 the fast conversion returns [x + h]_P + u P with
  // 0 <= u < alpha; u is floor(sum_k y_k / p_k) for y_k = [x_k (P/p_k)^-1]_{p_k}.
  // Left in, it would bias every coefficient by -u (mean -(alpha-1)/2): a
  // near-constant polynomial whose slot image piles up at the first and last
  // slots. Compute u in double precision and take u P off as well. The sum is
  // u + [x + h]_P / P, so floor() can be off by one only when x / P is within
  // the sum's error of a half-integer, where either rounding is nearest.
  // y_k / p_k is the fractional part of x_k (P/p_k)^-1 / p_k, evaluated in
  // doubles from the two 32-bit halves of x_k (vectorised, no 128-bit
  // products); its error is below 2^-18, so a wrong u only ever moves a
  // value within 2^-18 of a tie to the other nearest integer.
  constexpr std::size_t kBlock = 2048;
  alignas(64) double hi[kBlock], lo[kBlock], frac[kBlock];
  for (std::size_t begin = 0; begin < n; begin += kBlock) {
    const std::size_t len = std::min(n, begin + kBlock) - begin;
    for (int k = 0; k < alpha_; ++k) {
      SplitHalvesAsDoubles(p_limbs[k] + begin, reinterpret_cast<AliasingU64*>(hi),
                           reinterpret_cast<AliasingU64*>(lo), len);
      AccumulateFraction(hi, lo, p_frac_hi_[k], p_frac_lo_[k], frac, len, k == 0);
    }
    FloorToIndex(frac, u + begin, len, alpha_ - 1);
  }
  for (int k = 0; k < alpha_; ++k) p_to_q_->ScaleSource(k, p_limbs[k], p_limbs[k]);
}

void HybridDecomposition::ModDownLimb(int i, const uint64_t* const* p_limbs,
                                      const uint8_t* u, const uint64_t* x_i,
                                      const uint64_t* add_i, uint64_t* out,
                                      uint64_t* scratch) const {
  const std::size_t n = ctx_->n();
  const Modulus& qi = ctx_->q(i);
  p_to_q_->ConvertOne(p_limbs, i, scratch);
  // scratch = [x + h]_P - h - u P (mod q_i), still coefficient form.
  if (alpha_ == 1) {
    AddConstModInPlace(scratch, neg_half_p_mod_q_[i], n, qi.value);
  } else if (alpha_ == 2) {
    const uint64_t* off = neg_half_minus_up_mod_q_.data() + i * 2;
    AddSelectModInPlace(scratch, u, off[0], off[1], n, qi.value);
  } else {
    AddTableModInPlace(scratch, u, neg_half_minus_up_mod_q_.data() + i * alpha_, n,
                       qi.value);
  }
  ctx_->ntt(i).Forward(scratch);
  // (x - conversion) P^-1 (+ add) in one pass.
  math::SubMulScalarAddModVec(x_i, scratch, p_inv_mod_q_[i], add_i, out, n, qi);
}

void HybridDecomposition::ModDown(RnsPoly* x, RnsPoly* out) const {
  const int num_q = out->num_q();
  const std::size_t n = ctx_->n();
  BF_DCHECK(x->num_q() == num_q && x->num_p() == alpha_ && x->is_ntt());
  std::vector<uint64_t*> p(alpha_);
  for (int k = 0; k < alpha_; ++k) p[k] = x->limb(num_q + k);
  std::vector<uint8_t> u(alpha_ > 1 ? n : 0);
  ModDownPrepare(p.data(), u.data());
  ParallelFor(num_q, [&](std::size_t i) {
    thread_local AlignedVector<uint64_t> scratch;
    scratch.resize(n);
    ModDownLimb(static_cast<int>(i), p.data(), u.data(), x->limb(i), nullptr,
                out->limb(i), scratch.data());
  });
  out->set_ntt(true);
}

}  // namespace blindfold::ring
