// File: ckks/internal/seed_expansion.h
// Expansion of the uniform polynomials that keys and fresh symmetric
// ciphertexts store as a seed. Internal: the key generator, the encryptor and
// serialization use it; the public API never needs it.
#ifndef BLINDFOLD_CKKS_INTERNAL_SEED_EXPANSION_H_
#define BLINDFOLD_CKKS_INTERNAL_SEED_EXPANSION_H_

#include "base/random.h"
#include "ckks/parameters.h"
#include "ring/poly.h"

namespace blindfold::ckks::internal {

// The uniform polynomial a of a public key (over Q).
void ExpandPublicKeyA(const Parameters& params, const Seed& seed,
                      ring::RnsPoly* a);
// The uniform polynomial a_j of digit j of a switching key over
// q_0..q_{num_q-1} and P (each prime's limb expands on its own, so a key for
// a lower level holds the same limbs as the full key).
void ExpandSwitchingKeyA(const Parameters& params, const Seed& seed, int digit,
                         int num_q, ring::RnsPoly* a);
// The c1 of a seeded symmetric encryption at `level`, from its seed.
void ExpandCiphertextC1(const Parameters& params, const Seed& seed, int level,
                        ring::RnsPoly* c1);

}  // namespace blindfold::ckks::internal

#endif  // BLINDFOLD_CKKS_INTERNAL_SEED_EXPANSION_H_
