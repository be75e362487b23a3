#include "ring/poly.h"

#include <algorithm>

#include "base/check.h"
#include "base/random.h"
#include "base/thread_pool.h"
#include "math/vec_ops.h"

namespace blindfold::ring {

void RnsPoly::TruncateQ(int num_q) {
  BF_CHECK(num_q >= 1 && num_q <= num_q_);
  if (num_p_ > 0) SecureZero(limb(num_q_), n_ * num_p_ * sizeof(uint64_t));
  num_q_ = num_q;
  num_p_ = 0;
  data_.resize(n_ * num_q);
}

void RnsPoly::SecureWipe() {
  if (!data_.empty()) SecureZero(data_.data(), data_.size() * sizeof(uint64_t));
}

void ToNtt(const RingContext& ctx, RnsPoly* a) {
  BF_DCHECK(!a->is_ntt());
  ParallelFor(a->num_limbs(), [&](std::size_t i) {
    ctx.ntt(a->modulus_index(i, ctx)).Forward(a->limb(i));
  });
  a->set_ntt(true);
}

void FromNtt(const RingContext& ctx, RnsPoly* a) {
  BF_DCHECK(a->is_ntt());
  ParallelFor(a->num_limbs(), [&](std::size_t i) {
    ctx.ntt(a->modulus_index(i, ctx)).Inverse(a->limb(i));
  });
  a->set_ntt(false);
}

namespace {
// REQUIRES: a has at least out's Q limbs, and its P limbs if out has any.
inline int SourceLimb(const RnsPoly& a, const RnsPoly& out, int i) {
  BF_DCHECK((out.num_p() == 0 || a.num_p() == out.num_p()) &&
            a.num_q() >= out.num_q());
  return i < out.num_q() ? i : a.num_q() + (i - out.num_q());
}
}  // namespace

void Add(const RingContext& ctx, const RnsPoly& a, const RnsPoly& b, RnsPoly* out) {
  const std::size_t n = out->n();
  ParallelFor(out->num_limbs(), [&](std::size_t i) {
    math::AddModVec(a.limb(SourceLimb(a, *out, i)), b.limb(SourceLimb(b, *out, i)),
                    out->limb(i), n, ctx.modulus(out->modulus_index(i, ctx)).value);
  });
}

void Sub(const RingContext& ctx, const RnsPoly& a, const RnsPoly& b, RnsPoly* out) {
  const std::size_t n = out->n();
  ParallelFor(out->num_limbs(), [&](std::size_t i) {
    math::SubModVec(a.limb(SourceLimb(a, *out, i)), b.limb(SourceLimb(b, *out, i)),
                    out->limb(i), n, ctx.modulus(out->modulus_index(i, ctx)).value);
  });
}

void Negate(const RingContext& ctx, const RnsPoly& a, RnsPoly* out) {
  const std::size_t n = out->n();
  ParallelFor(out->num_limbs(), [&](std::size_t i) {
    math::NegModVec(a.limb(SourceLimb(a, *out, i)), out->limb(i), n,
                    ctx.modulus(out->modulus_index(i, ctx)).value);
  });
}

void MulPointwise(const RingContext& ctx, const RnsPoly& a, const RnsPoly& b,
                  RnsPoly* out) {
  const std::size_t n = out->n();
  ParallelFor(out->num_limbs(), [&](std::size_t i) {
    math::MulModVec(a.limb(SourceLimb(a, *out, i)), b.limb(SourceLimb(b, *out, i)),
                    out->limb(i), n, ctx.modulus(out->modulus_index(i, ctx)));
  });
}

void MulAddPointwise(const RingContext& ctx, const RnsPoly& a, const RnsPoly& b,
                     RnsPoly* out) {
  const std::size_t n = out->n();
  ParallelFor(out->num_limbs(), [&](std::size_t i) {
    math::MulAddModVec(a.limb(SourceLimb(a, *out, i)), b.limb(SourceLimb(b, *out, i)),
                       out->limb(i), n, ctx.modulus(out->modulus_index(i, ctx)));
  });
}

void MulScalarPerLimb(const RingContext& ctx, const RnsPoly& a,
                      std::span<const uint64_t> s, RnsPoly* out) {
  const std::size_t n = out->n();
  BF_DCHECK(s.size() >= static_cast<std::size_t>(out->num_limbs()));
  ParallelFor(out->num_limbs(), [&](std::size_t i) {
    math::MulScalarModVec(a.limb(SourceLimb(a, *out, i)), s[i], out->limb(i), n,
                          ctx.modulus(out->modulus_index(i, ctx)));
  });
}

void AddScalarPerLimb(const RingContext& ctx, const RnsPoly& a,
                      std::span<const uint64_t> s, RnsPoly* out) {
  const std::size_t n = out->n();
  BF_DCHECK(a.is_ntt());
  ParallelFor(out->num_limbs(), [&](std::size_t i) {
    math::AddScalarModVec(a.limb(SourceLimb(a, *out, i)), s[i], out->limb(i), n,
                          ctx.modulus(out->modulus_index(i, ctx)).value);
  });
}

void SetFromSigned(const RingContext& ctx, std::span<const int64_t> coeffs,
                   RnsPoly* out) {
  BF_DCHECK(coeffs.size() == out->n());
  ParallelFor(out->num_limbs(), [&](std::size_t i) {
    const uint64_t q = ctx.modulus(out->modulus_index(i, ctx)).value;
    uint64_t* dst = out->limb(i);
    // Branch-free per coefficient: these are secrets and errors.
    for (std::size_t j = 0; j < coeffs.size(); ++j) {
      BF_DCHECK(coeffs[j] > -static_cast<int64_t>(q) && coeffs[j] < static_cast<int64_t>(q));
      dst[j] = math::FromSignedSmall(coeffs[j], q);
    }
  });
  out->set_ntt(false);
}

}  // namespace blindfold::ring
