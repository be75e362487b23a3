// File: ckks/ciphertext.h
// Plaintext and Ciphertext: RNS polynomials in NTT form plus the metadata
// that travels with them (level, scale, slot count, parameter fingerprint).
// Every evaluator op checks this metadata before doing any work.
//
// Users read the metadata and polynomials through const accessors; only the
// engine (encoder, encryptor, evaluator, serialization) sets them, through
// ckks/internal/access.h, so a value's metadata always describes its data.
#ifndef BLINDFOLD_CKKS_CIPHERTEXT_H_
#define BLINDFOLD_CKKS_CIPHERTEXT_H_

#include <optional>
#include <vector>

#include "base/random.h"
#include "ckks/scale.h"
#include "ring/poly.h"

namespace blindfold::ckks {

namespace internal {
struct Access;
}  // namespace internal

// An encoded message m(X) in R_{Q_level}, NTT form.
class Plaintext {
 public:
  Plaintext() = default;

  int level() const { return poly_.num_q() - 1; }
  Scale scale() const { return scale_; }
  std::size_t slots() const { return slots_; }  // power of two <= N/2
  uint64_t fingerprint() const { return fingerprint_; }
  // level + 1 Q limbs, then the P limbs if encoded with PlaintextBasis::kQP.
  const ring::RnsPoly& poly() const { return poly_; }

 private:
  friend struct internal::Access;
  ring::RnsPoly poly_;
  Scale scale_;
  std::size_t slots_ = 0;
  uint64_t fingerprint_ = 0;
};

// (c_0, ..., c_d) with m ~ sum_i c_i s^i; d = 1 after relinearization.
class Ciphertext {
 public:
  Ciphertext() = default;

  int level() const { return polys_.empty() ? -1 : polys_[0].num_q() - 1; }
  int degree() const { return static_cast<int>(polys_.size()) - 1; }
  Scale scale() const { return scale_; }
  std::size_t slots() const { return slots_; }
  uint64_t fingerprint() const { return fingerprint_; }
  // Each level + 1 Q limbs, NTT form.
  const std::vector<ring::RnsPoly>& polys() const { return polys_; }
  // Set only on a fresh symmetric encryption: c_1 is expanded from this
  // seed, so serialization may store the seed instead of c_1 (half the
  // bytes).
  const std::optional<Seed>& c1_seed() const { return c1_seed_; }

 private:
  friend struct internal::Access;
  std::vector<ring::RnsPoly> polys_;
  Scale scale_;
  std::size_t slots_ = 0;
  uint64_t fingerprint_ = 0;
  std::optional<Seed> c1_seed_;
};

}  // namespace blindfold::ckks

#endif  // BLINDFOLD_CKKS_CIPHERTEXT_H_
