#include "ring/automorphism.h"

#include "base/check.h"
#include "base/thread_pool.h"
#include "math/ntt.h"

namespace blindfold::ring {

uint64_t GaloisElementForRotation(int64_t steps, int log_n) {
  const uint64_t two_n = uint64_t{2} << log_n;
  const int64_t order = int64_t{1} << (log_n - 1);  // order of 5 mod 2N
  int64_t k = steps % order;
  if (k < 0) k += order;
  uint64_t g = 1, base = 5;
  for (uint64_t e = static_cast<uint64_t>(k); e; e >>= 1) {
    if (e & 1) g = g * base % two_n;
    base = base * base % two_n;
  }
  return g;
}

std::vector<uint32_t> AutomorphismNttIndex(int log_n, uint64_t g) {
  BF_CHECK(g & 1);
  const uint64_t n = uint64_t{1} << log_n;
  const uint64_t mask = 2 * n - 1;
  std::vector<uint32_t> index(n);
  for (uint64_t j = 0; j < n; ++j) {
    const uint64_t e = 2 * math::BitReverse(static_cast<uint32_t>(j), log_n) + 1;
    const uint64_t eg = (e * g) & mask;
    index[j] = math::BitReverse(static_cast<uint32_t>((eg - 1) >> 1), log_n);
  }
  return index;
}

void PermuteLimb(const uint64_t* __restrict in, const uint32_t* __restrict index,
                 uint64_t* __restrict out, std::size_t n) {
  for (std::size_t j = 0; j < n; ++j) out[j] = in[index[j]];
}

void ApplyAutomorphismNtt(const RnsPoly& a, const std::vector<uint32_t>& index,
                          RnsPoly* out) {
  BF_DCHECK(a.is_ntt() && &a != out && index.size() == a.n());
  const std::size_t n = a.n();
  const uint32_t* idx = index.data();
  ParallelFor(out->num_limbs(), [&](std::size_t i) {
    const int src = i < static_cast<std::size_t>(out->num_q())
                        ? static_cast<int>(i)
                        : a.num_q() + static_cast<int>(i) - out->num_q();
    PermuteLimb(a.limb(src), idx, out->limb(i), n);
  });
  out->set_ntt(true);
}

void ApplyAutomorphismCoeff(const RingContext& ctx, const RnsPoly& a,
                            uint64_t g, RnsPoly* out) {
  BF_DCHECK(!a.is_ntt() && &a != out);
  const std::size_t n = a.n();
  const uint64_t mask = 2 * n - 1;
  ParallelFor(out->num_limbs(), [&](std::size_t i) {
    const uint64_t q = ctx.modulus(out->modulus_index(i, ctx)).value;
    const uint64_t* in = a.limb(i);
    uint64_t* o = out->limb(i);
    for (std::size_t k = 0; k < n; ++k) {
      const uint64_t e = (k * g) & mask;
      if (e < n) {
        o[e] = in[k];
      } else {
        o[e - n] = in[k] == 0 ? 0 : q - in[k];
      }
    }
  });
  out->set_ntt(false);
}

}  // namespace blindfold::ring
