#include "math/ntt.h"

#include "absl/strings/str_cat.h"
#include "base/cpu_features.h"
#include "base/target.h"
#include "math/primes.h"

namespace blindfold::math {

absl::StatusOr<NttTables> NttTables::Create(int log_n, const Modulus& q) {
  if (log_n < 1 || log_n > 17) {
    return absl::InvalidArgumentError(
        absl::StrCat("NttTables: log_n = ", log_n, " outside [1, 17]"));
  }
  const uint64_t n = uint64_t{1} << log_n;
  auto psi = MinimalPrimitiveRoot(2 * n, q);
  if (!psi.ok()) return psi.status();
  NttTables t;
  t.log_n_ = log_n;
  t.q_ = q;
  t.psi_ = *psi;
  const uint64_t psi_inv = InvMod(*psi, q);
  for (auto* v : {&t.psi_rev_, &t.psi_rev_shoup_, &t.psi_rev_shoup52_,
                  &t.inv_psi_rev_, &t.inv_psi_rev_shoup_,
                  &t.inv_psi_rev_shoup52_}) {
    v->assign(n, 0);
  }
  uint64_t pw = 1, ipw = 1;
  const bool ifma = q.bits <= kMaxIfmaModulusBits;
  for (uint64_t i = 0; i < n; ++i) {
    const uint32_t r = BitReverse(static_cast<uint32_t>(i), log_n);
    t.psi_rev_[r] = pw;
    t.inv_psi_rev_[r] = ipw;
    pw = MulMod(pw, *psi, q);
    ipw = MulMod(ipw, psi_inv, q);
  }
  for (uint64_t i = 0; i < n; ++i) {
    t.psi_rev_shoup_[i] = ShoupPrecompute(t.psi_rev_[i], q.value);
    t.inv_psi_rev_shoup_[i] = ShoupPrecompute(t.inv_psi_rev_[i], q.value);
    if (ifma) {
      t.psi_rev_shoup52_[i] = static_cast<uint64_t>(
          (static_cast<u128>(t.psi_rev_[i]) << 52) / q.value);
      t.inv_psi_rev_shoup52_[i] = static_cast<uint64_t>(
          (static_cast<u128>(t.inv_psi_rev_[i]) << 52) / q.value);
    }
  }
  // Double twiddles for the AVX2 and NEON kernels (same limit, 50 bits).
  static_assert(kMaxNeonModulusBits == kMaxAvx2ModulusBits);
  if (q.bits <= kMaxAvx2ModulusBits) {
    t.psi_rev_f64_.resize(n);
    t.inv_psi_rev_f64_.resize(n);
    for (uint64_t i = 0; i < n; ++i) {
      t.psi_rev_f64_[i] = static_cast<double>(t.psi_rev_[i]);
      t.inv_psi_rev_f64_[i] = static_cast<double>(t.inv_psi_rev_[i]);
    }
  }
  t.n_inv_ = InvMod(n % q.value, q);
  t.n_inv_shoup_ = ShoupPrecompute(t.n_inv_, q.value);
  if (ifma) {
    t.n_inv_shoup52_ =
        static_cast<uint64_t>((static_cast<u128>(t.n_inv_) << 52) / q.value);
  }
  return t;
}

void NttTables::ForwardLazyPortable(uint64_t* a) const {
  const uint64_t q = q_.value;
  const uint64_t two_q = 2 * q;
  const std::size_t n = this->n();
  const uint64_t* w = psi_rev_.data();
  const uint64_t* ws = psi_rev_shoup_.data();
  std::size_t t = n;
  for (std::size_t m = 1; m < n; m <<= 1) {
    t >>= 1;
    for (std::size_t i = 0; i < m; ++i) {
      const uint64_t W = w[m + i];
      const uint64_t Ws = ws[m + i];
      uint64_t* x = a + 2 * i * t;
      uint64_t* y = x + t;
      for (std::size_t j = 0; j < t; ++j) {
        uint64_t xv = x[j];
        xv -= (xv >= two_q) ? two_q : 0;                 // [0, 2q)
        const uint64_t tv = MulModShoupLazy(y[j], W, Ws, q);  // [0, 2q)
        x[j] = xv + tv;                                  // [0, 4q)
        y[j] = xv - tv + two_q;                          // [0, 4q)
      }
    }
  }
}

void NttTables::InverseLazyPortable(uint64_t* a) const {
  const uint64_t q = q_.value;
  const uint64_t two_q = 2 * q;
  const std::size_t n = this->n();
  const uint64_t* w = inv_psi_rev_.data();
  const uint64_t* ws = inv_psi_rev_shoup_.data();
  std::size_t t = 1;
  for (std::size_t m = n; m > 1; m >>= 1) {
    const std::size_t h = m >> 1;
    for (std::size_t i = 0; i < h; ++i) {
      const uint64_t W = w[h + i];
      const uint64_t Ws = ws[h + i];
      uint64_t* x = a + 2 * i * t;
      uint64_t* y = x + t;
      for (std::size_t j = 0; j < t; ++j) {
        const uint64_t xv = x[j], yv = y[j];
        uint64_t s = xv + yv;
        s -= (s >= two_q) ? two_q : 0;                      // [0, 2q)
        x[j] = s;
        y[j] = MulModShoupLazy(xv - yv + two_q, W, Ws, q);  // [0, 2q)
      }
    }
    t <<= 1;
  }
  // Scale by 1/N, keeping [0, 2q).
  for (std::size_t j = 0; j < n; ++j) {
    a[j] = MulModShoupLazy(a[j], n_inv_, n_inv_shoup_, q);
  }
}

// Each build names only the kernels it compiles (math/CMakeLists.txt): IFMA
// and AVX2 on x86-64, NEON on aarch64.
namespace {
#if BLINDFOLD_TARGET_X86_64
inline bool UseIfma(const NttTables& t) {
  return t.ifma_capable() && t.log_n() >= 4 &&
         ActiveKernelPath() == KernelPath::kIfma;
}
inline bool UseAvx2(const NttTables& t) {
  return t.avx2_capable() && t.log_n() >= 3 &&
         ActiveKernelPath() == KernelPath::kAvx2;
}
#endif
#if BLINDFOLD_TARGET_AARCH64
inline bool UseNeon(const NttTables& t) {
  return t.neon_capable() && t.log_n() >= 3 &&
         ActiveKernelPath() == KernelPath::kNeon;
}
#endif
}  // namespace

void NttTables::ForwardLazy(uint64_t* a) const {
#if BLINDFOLD_TARGET_X86_64
  if (UseAvx2(*this)) return internal::ForwardAvx2(*this, a);
  if (UseIfma(*this)) return internal::ForwardLazyIfma(*this, a);
#endif
#if BLINDFOLD_TARGET_AARCH64
  if (UseNeon(*this)) return internal::ForwardNeon(*this, a);
#endif
  ForwardLazyPortable(a);
}

void NttTables::Forward(uint64_t* a) const {
#if BLINDFOLD_TARGET_X86_64
  if (UseAvx2(*this)) {
    internal::ForwardAvx2(*this, a);
    return;
  }
  if (UseIfma(*this)) {
    internal::ForwardIfma(*this, a);
    return;
  }
#endif
#if BLINDFOLD_TARGET_AARCH64
  if (UseNeon(*this)) return internal::ForwardNeon(*this, a);
#endif
  ForwardLazyPortable(a);
  const uint64_t q = q_.value, two_q = 2 * q;
  const std::size_t n = this->n();
  for (std::size_t j = 0; j < n; ++j) {
    uint64_t v = a[j];
    v -= (v >= two_q) ? two_q : 0;
    v -= (v >= q) ? q : 0;
    a[j] = v;
  }
}

void NttTables::InverseLazy(uint64_t* a) const {
#if BLINDFOLD_TARGET_X86_64
  if (UseAvx2(*this)) return internal::InverseAvx2(*this, a);
  if (UseIfma(*this)) return internal::InverseLazyIfma(*this, a);
#endif
#if BLINDFOLD_TARGET_AARCH64
  if (UseNeon(*this)) return internal::InverseNeon(*this, a);
#endif
  InverseLazyPortable(a);
}

void NttTables::Inverse(uint64_t* a) const {
#if BLINDFOLD_TARGET_X86_64
  if (UseAvx2(*this)) {
    internal::InverseAvx2(*this, a);
    return;
  }
  if (UseIfma(*this)) {
    internal::InverseIfma(*this, a);
    return;
  }
#endif
#if BLINDFOLD_TARGET_AARCH64
  if (UseNeon(*this)) return internal::InverseNeon(*this, a);
#endif
  InverseLazyPortable(a);
  const uint64_t q = q_.value;
  const std::size_t n = this->n();
  for (std::size_t j = 0; j < n; ++j) a[j] -= (a[j] >= q) ? q : 0;
}

}  // namespace blindfold::math
