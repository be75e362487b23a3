#include "ring/basis.h"

#include <algorithm>

#include "base/check.h"
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

HybridDecomposition::HybridDecomposition(std::shared_ptr<const RingContext> ctx)
    : ctx_(std::move(ctx)), alpha_(ctx_->num_p()) {
  BF_CHECK(alpha_ >= 1);
  const int L = ctx_->num_q();
  const int digits = (L + alpha_ - 1) / alpha_;
  converters_.resize(digits);
  for (int j = 0; j < digits; ++j) {
    const int start = j * alpha_;
    const int size = std::min(alpha_, L - start);
    for (int s = 1; s <= size; ++s) {
      std::vector<int> src;
      for (int i = 0; i < s; ++i) src.push_back(start + i);
      converters_[j].push_back(std::make_unique<BasisConverter>(*ctx_, src));
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

  std::vector<const uint64_t*> src;
  for (int i = start; i < end; ++i) src.push_back(a_coeff.limb(i));
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
    ctx_->ntt(targets[t]).Forward(dst[t]);
  });
  out->set_ntt(true);
}

void HybridDecomposition::ModDown(RnsPoly* x, RnsPoly* out) const {
  const int num_q = out->num_q();
  const std::size_t n = ctx_->n();
  BF_DCHECK(x->num_q() == num_q && x->num_p() == alpha_ && x->is_ntt());
  std::vector<const uint64_t*> src;
  for (int k = 0; k < alpha_; ++k) src.push_back(x->limb(num_q + k));
  ParallelFor(alpha_, [&](std::size_t k) {
    ctx_->ntt(ctx_->num_q() + k).Inverse(x->limb(num_q + k));
  });
  thread_local AlignedVector<uint64_t> tmp;
  tmp.resize(n * num_q);
  std::vector<int> targets(num_q);
  std::vector<uint64_t*> dst(num_q);
  for (int i = 0; i < num_q; ++i) {
    targets[i] = i;
    dst[i] = tmp.data() + n * i;
  }
  p_to_q_->Convert(src.data(), targets, dst.data());
  ParallelFor(num_q, [&](std::size_t i) {
    const Modulus& qi = ctx_->q(i);
    ctx_->ntt(i).Forward(dst[i]);
    math::SubModVec(x->limb(i), dst[i], out->limb(i), n, qi.value);
    math::MulScalarModVec(out->limb(i), p_inv_mod_q_[i], out->limb(i), n, qi);
  });
  out->set_ntt(true);
}

}  // namespace blindfold::ring
