// File: ring/poly.h
// RnsPoly: a polynomial of R_Q (optionally extended by P) held as residue
// limbs, one contiguous 64-byte aligned buffer of (num_q + num_p) * N words.
// Limb i < num_q is mod q_i; limb num_q + k is mod p_k. A flag records
// whether the limbs are in NTT (evaluation) or coefficient form.
//
// The free functions below are the ring's limb-parallel kernels; they check
// shapes with DCHECK only (callers in ckks/ validate user input first).
#ifndef BLINDFOLD_RING_POLY_H_
#define BLINDFOLD_RING_POLY_H_

#include <cstdint>
#include <span>
#include <vector>

#include "base/aligned.h"
#include "ring/ring_context.h"

namespace blindfold::ring {

class RnsPoly {
 public:
  RnsPoly() = default;
  RnsPoly(std::size_t n, int num_q, int num_p, bool ntt)
      : n_(n), num_q_(num_q), num_p_(num_p), ntt_(ntt),
        data_(n * (num_q + num_p), 0) {}
  // As above with the words left unset, for outputs whose every limb the
  // caller overwrites before reading (hot paths skip the memset).
  struct Uninitialized {};
  RnsPoly(std::size_t n, int num_q, int num_p, bool ntt, Uninitialized)
      : n_(n), num_q_(num_q), num_p_(num_p), ntt_(ntt),
        data_(n * (num_q + num_p)) {}

  std::size_t n() const { return n_; }
  int num_q() const { return num_q_; }
  int num_p() const { return num_p_; }
  int num_limbs() const { return num_q_ + num_p_; }
  bool is_ntt() const { return ntt_; }
  void set_ntt(bool ntt) { ntt_ = ntt; }
  bool empty() const { return data_.empty(); }

  uint64_t* limb(int i) { return data_.data() + n_ * i; }
  const uint64_t* limb(int i) const { return data_.data() + n_ * i; }
  std::span<uint64_t> words() { return {data_.data(), data_.size()}; }
  std::span<const uint64_t> words() const { return {data_.data(), data_.size()}; }

  // Global modulus index (RingContext) of limb i.
  int modulus_index(int i, const RingContext& ctx) const {
    return i < num_q_ ? i : ctx.num_q() + (i - num_q_);
  }

  // Keeps the first `num_q` Q limbs and drops P limbs. REQUIRES num_q <= num_q().
  void TruncateQ(int num_q);
  // Zeroes all words (used for secrets before release).
  void SecureWipe();

  bool operator==(const RnsPoly& o) const {
    return n_ == o.n_ && num_q_ == o.num_q_ && num_p_ == o.num_p_ &&
           ntt_ == o.ntt_ && data_ == o.data_;
  }

 private:
  std::size_t n_ = 0;
  int num_q_ = 0;
  int num_p_ = 0;
  bool ntt_ = false;
  AlignedVector<uint64_t> data_;
};

// Converts every limb to NTT form / back. REQUIRES matching form.
void ToNtt(const RingContext& ctx, RnsPoly* a);
void FromNtt(const RingContext& ctx, RnsPoly* a);

// out = a op b limb-wise over the limbs of `out`: a and b must have at least
// out's Q limbs (extra ones are ignored) and its P limbs if it has any.
// out may alias a or b.
void Add(const RingContext& ctx, const RnsPoly& a, const RnsPoly& b, RnsPoly* out);
void Sub(const RingContext& ctx, const RnsPoly& a, const RnsPoly& b, RnsPoly* out);
void Negate(const RingContext& ctx, const RnsPoly& a, RnsPoly* out);
// Pointwise product (NTT form).
void MulPointwise(const RingContext& ctx, const RnsPoly& a, const RnsPoly& b,
                  RnsPoly* out);
// out += a * b pointwise.
void MulAddPointwise(const RingContext& ctx, const RnsPoly& a, const RnsPoly& b,
                     RnsPoly* out);
// out = a * s[i] on limb i, for per-limb scalars s[i] < modulus of limb i.
void MulScalarPerLimb(const RingContext& ctx, const RnsPoly& a,
                      std::span<const uint64_t> s, RnsPoly* out);
// out = a + s[i] on limb i (NTT form: adds the constant polynomial s).
void AddScalarPerLimb(const RingContext& ctx, const RnsPoly& a,
                      std::span<const uint64_t> s, RnsPoly* out);

// Sets every limb of `out` from small signed coefficients, without a branch
// on any value (secrets and errors pass through here). REQUIRES: |v| below
// every modulus of `out`.
void SetFromSigned(const RingContext& ctx, std::span<const int64_t> coeffs,
                   RnsPoly* out);

}  // namespace blindfold::ring

#endif  // BLINDFOLD_RING_POLY_H_
