#include "ring/ring_context.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "math/primes.h"

namespace blindfold::ring {

absl::StatusOr<std::shared_ptr<const RingContext>> RingContext::Create(
    int log_n, const std::vector<uint64_t>& q, const std::vector<uint64_t>& p) {
  if (q.empty()) return absl::InvalidArgumentError("RingContext: empty Q chain");
  if (q.size() + p.size() > 256) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RingContext: ", q.size() + p.size(), " primes, at most 256 supported"));
  }
  auto ctx = std::shared_ptr<RingContext>(new RingContext());
  ctx->log_n_ = log_n;
  ctx->num_q_ = static_cast<int>(q.size());
  std::vector<uint64_t> all = q;
  all.insert(all.end(), p.begin(), p.end());
  std::vector<uint64_t> sorted = all;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
    return absl::InvalidArgumentError("RingContext: a prime appears twice");
  }
  for (uint64_t v : all) {
    if (v < 3 || v >= (uint64_t{1} << math::kMaxModulusBits) ||
        !math::IsPrime(v)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "RingContext: modulus ", v, " is not a prime below 2^",
          math::kMaxModulusBits));
    }
    math::Modulus m(v);
    auto t = math::NttTables::Create(log_n, m);
    if (!t.ok()) return t.status();
    ctx->moduli_.push_back(m);
    ctx->ntt_.push_back(*std::move(t));
  }
  return std::shared_ptr<const RingContext>(std::move(ctx));
}

}  // namespace blindfold::ring
