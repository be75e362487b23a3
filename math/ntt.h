// File: math/ntt.h
// Negacyclic number-theoretic transform over Z_q[X]/(X^N + 1).
//
// Forward: Cooley-Tukey with Harvey's lazy butterflies (D. Harvey, "Faster
// arithmetic for number-theoretic transforms", J. Symb. Comp. 2014), natural
// order in, bit-reversed order out; slot j of the output is the evaluation at
// psi^(2*bitrev(j)+1) where psi is the table's primitive 2N-th root.
// Inverse: Gentleman-Sande, bit-reversed in, natural order out, scaled by
// 1/N. Pointwise products of transforms are negacyclic convolutions.
//
// Kernel paths: portable 64-bit C++; on x86-64 AVX-512 IFMA (52-bit lanes,
// for q < 2^50) and AVX2 + FMA (double lanes, for q < 2^50); on aarch64
// NEON (2 x double lanes, for q < 2^50); chosen per call from
// base/cpu_features.h. Reduced outputs are bit-identical across paths.
#ifndef BLINDFOLD_MATH_NTT_H_
#define BLINDFOLD_MATH_NTT_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "base/aligned.h"
#include "math/modarith.h"

namespace blindfold::math {

class NttTables {
 public:
  // Errors: InvalidArgument when log_n is outside [1, 17] or q is not a prime
  // = 1 mod 2N.
  static absl::StatusOr<NttTables> Create(int log_n, const Modulus& q);

  // In place. REQUIRES: a has n() words, each < 4q. Output in [0, 4q).
  void ForwardLazy(uint64_t* a) const;
  // In place. REQUIRES: a has n() words, each < 4q. Output in [0, q).
  void Forward(uint64_t* a) const;
  // In place. REQUIRES: a has n() words, each < 2q. Output in [0, q).
  void Inverse(uint64_t* a) const;
  // In place. REQUIRES: a has n() words, each < 2q. Output in [0, 2q).
  void InverseLazy(uint64_t* a) const;

  // Portable kernels, callable directly (tests compare paths with them).
  void ForwardLazyPortable(uint64_t* a) const;
  void InverseLazyPortable(uint64_t* a) const;

  int log_n() const { return log_n_; }
  std::size_t n() const { return std::size_t{1} << log_n_; }
  const Modulus& modulus() const { return q_; }
  uint64_t psi() const { return psi_; }
  // True when the IFMA kernel may be used for this modulus.
  bool ifma_capable() const { return q_.bits <= kMaxIfmaModulusBits; }
  // True when the AVX2 (double-precision) kernel may be used.
  bool avx2_capable() const { return q_.bits <= kMaxAvx2ModulusBits; }
  // True when the NEON (double-precision) kernel may be used.
  bool neon_capable() const { return q_.bits <= kMaxNeonModulusBits; }

  // Tables, all of length n(). psi_rev[k] = psi^bitrev(k); inv_psi_rev[k] =
  // psi^-bitrev(k) (entry 0 unused). *_shoup: floor(w 2^64 / q);
  // *_shoup52: floor(w 2^52 / q) for the IFMA path.
  const AlignedVector<uint64_t>& psi_rev() const { return psi_rev_; }
  const AlignedVector<uint64_t>& psi_rev_shoup() const { return psi_rev_shoup_; }
  const AlignedVector<uint64_t>& psi_rev_shoup52() const { return psi_rev_shoup52_; }
  const AlignedVector<uint64_t>& inv_psi_rev() const { return inv_psi_rev_; }
  const AlignedVector<uint64_t>& inv_psi_rev_shoup() const { return inv_psi_rev_shoup_; }
  const AlignedVector<uint64_t>& inv_psi_rev_shoup52() const { return inv_psi_rev_shoup52_; }
  // The twiddles as doubles for the AVX2 and NEON paths (empty unless
  // avx2_capable(), which equals neon_capable()).
  const AlignedVector<double>& psi_rev_f64() const { return psi_rev_f64_; }
  const AlignedVector<double>& inv_psi_rev_f64() const { return inv_psi_rev_f64_; }
  uint64_t n_inv() const { return n_inv_; }
  uint64_t n_inv_shoup() const { return n_inv_shoup_; }
  uint64_t n_inv_shoup52() const { return n_inv_shoup52_; }

 private:
  NttTables() = default;

  int log_n_ = 0;
  Modulus q_;
  uint64_t psi_ = 0;
  AlignedVector<uint64_t> psi_rev_, psi_rev_shoup_, psi_rev_shoup52_;
  AlignedVector<uint64_t> inv_psi_rev_, inv_psi_rev_shoup_, inv_psi_rev_shoup52_;
  AlignedVector<double> psi_rev_f64_, inv_psi_rev_f64_;
  uint64_t n_inv_ = 0, n_inv_shoup_ = 0, n_inv_shoup52_ = 0;
};

// Reverses the low `bits` bits of x.
inline uint32_t BitReverse(uint32_t x, int bits) {
  x = ((x & 0x55555555u) << 1) | ((x >> 1) & 0x55555555u);
  x = ((x & 0x33333333u) << 2) | ((x >> 2) & 0x33333333u);
  x = ((x & 0x0F0F0F0Fu) << 4) | ((x >> 4) & 0x0F0F0F0Fu);
  x = __builtin_bswap32(x);
  return bits == 0 ? 0 : x >> (32 - bits);
}

namespace internal {
// AVX-512 IFMA kernels (math/ntt_ifma.cc). REQUIRES: CpuHasIfma(),
// t.ifma_capable(), n() >= 16. Same contracts as the lazy members.
void ForwardLazyIfma(const NttTables& t, uint64_t* a);
void InverseLazyIfma(const NttTables& t, uint64_t* a);
// As the lazy kernels, with the final reduction to [0, q) fused into the
// last stage (same contracts as Forward / Inverse).
void ForwardIfma(const NttTables& t, uint64_t* a);
void InverseIfma(const NttTables& t, uint64_t* a);
// AVX2 + FMA kernels (math/ntt_avx2.cc). REQUIRES: CpuHasAvx2(),
// t.avx2_capable(), n() >= 8. Outputs fully reduced to [0, q), so they meet
// the contracts of Forward/ForwardLazy and Inverse/InverseLazy alike.
void ForwardAvx2(const NttTables& t, uint64_t* a);
void InverseAvx2(const NttTables& t, uint64_t* a);
// NEON kernels (math/ntt_neon.cc; defined only in aarch64 builds).
// REQUIRES: CpuHasNeon(), t.neon_capable(), n() >= 8. Outputs fully reduced
// to [0, q), as the AVX2 kernels'.
void ForwardNeon(const NttTables& t, uint64_t* a);
void InverseNeon(const NttTables& t, uint64_t* a);
}  // namespace internal

}  // namespace blindfold::math

#endif  // BLINDFOLD_MATH_NTT_H_
