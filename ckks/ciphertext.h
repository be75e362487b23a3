// File: ckks/ciphertext.h
// Plaintext and Ciphertext: RNS polynomials in NTT form plus the metadata
// that travels with them (level, scale, slot count, parameter fingerprint).
// Every evaluator op checks this metadata before doing any work.
#ifndef BLINDFOLD_CKKS_CIPHERTEXT_H_
#define BLINDFOLD_CKKS_CIPHERTEXT_H_

#include <optional>
#include <vector>

#include "base/random.h"
#include "ckks/scale.h"
#include "ring/poly.h"

namespace blindfold::ckks {

// An encoded message m(X) in R_{Q_level}, NTT form.
struct Plaintext {
  ring::RnsPoly poly;      // level + 1 Q limbs, NTT form
  Scale scale;
  std::size_t slots = 0;   // power of two <= N/2
  uint64_t fingerprint = 0;

  int level() const { return poly.num_q() - 1; }
};

// (c_0, ..., c_d) with m ~ sum_i c_i s^i; d = 1 after relinearization.
struct Ciphertext {
  std::vector<ring::RnsPoly> polys;  // each level + 1 Q limbs, NTT form
  Scale scale;
  std::size_t slots = 0;
  uint64_t fingerprint = 0;
  // Set only on a fresh symmetric encryption: c_1 is expanded from this seed,
  // so serialization may store the seed instead of c_1 (half the bytes).
  std::optional<Seed> c1_seed;

  int level() const { return polys.empty() ? -1 : polys[0].num_q() - 1; }
  int degree() const { return static_cast<int>(polys.size()) - 1; }
};

}  // namespace blindfold::ckks

#endif  // BLINDFOLD_CKKS_CIPHERTEXT_H_
