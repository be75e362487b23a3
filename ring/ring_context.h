// File: ring/ring_context.h
// The RNS ring R_Q = Z_Q[X]/(X^N + 1) for a chain of word-size primes
// Q = q_0 ... q_{L-1} and special primes P = p_0 ... p_{K-1}: the moduli and
// one NTT table per prime. Immutable and shared by everything built on it.
//
// Global modulus indices: 0..L-1 are the q_i, L..L+K-1 are the p_k.
#ifndef BLINDFOLD_RING_RING_CONTEXT_H_
#define BLINDFOLD_RING_RING_CONTEXT_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "math/modarith.h"
#include "math/ntt.h"

namespace blindfold::ring {

class RingContext {
 public:
  // Errors: InvalidArgument if any prime is not NTT-friendly for 2N, primes
  // repeat, or the chains are empty (q) / too long.
  static absl::StatusOr<std::shared_ptr<const RingContext>> Create(
      int log_n, const std::vector<uint64_t>& q, const std::vector<uint64_t>& p);

  int log_n() const { return log_n_; }
  std::size_t n() const { return std::size_t{1} << log_n_; }
  int num_q() const { return num_q_; }
  int num_p() const { return static_cast<int>(moduli_.size()) - num_q_; }

  // By global index (see file comment).
  const math::Modulus& modulus(int global) const { return moduli_[global]; }
  const math::NttTables& ntt(int global) const { return ntt_[global]; }
  const math::Modulus& q(int i) const { return moduli_[i]; }
  const math::Modulus& p(int k) const { return moduli_[num_q_ + k]; }

 private:
  RingContext() = default;
  int log_n_ = 0;
  int num_q_ = 0;
  std::vector<math::Modulus> moduli_;
  std::vector<math::NttTables> ntt_;
};

}  // namespace blindfold::ring

#endif  // BLINDFOLD_RING_RING_CONTEXT_H_
