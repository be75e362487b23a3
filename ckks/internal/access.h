// File: ckks/internal/access.h
// Engine access to what the public types hide: write access to the fields
// of Plaintext and Ciphertext (for the encoder, encryptor, decryptor,
// evaluator, serialization, and tests that build malformed values on
// purpose; const arguments give const references), and the ring, hybrid
// decomposition and rescale tables of Parameters. Not part of the public
// API.
#ifndef BLINDFOLD_CKKS_INTERNAL_ACCESS_H_
#define BLINDFOLD_CKKS_INTERNAL_ACCESS_H_

#include "ckks/ciphertext.h"
#include "ckks/parameters.h"

namespace blindfold::ckks::internal {

struct Access {
  template <typename T>
  static auto& poly(T& pt) { return pt.poly_; }
  template <typename T>
  static auto& polys(T& ct) { return ct.polys_; }
  template <typename T>
  static auto& scale(T& x) { return x.scale_; }
  template <typename T>
  static auto& slots(T& x) { return x.slots_; }
  template <typename T>
  static auto& fingerprint(T& x) { return x.fingerprint_; }
  template <typename T>
  static auto& c1_seed(T& ct) { return ct.c1_seed_; }

  static const ring::RingContext& ring(const Parameters& p) { return *p.ring_; }
  static const ring::HybridDecomposition& decomposition(const Parameters& p) {
    return *p.decomposition_;
  }
  // q_level^-1 mod q_i for i < level (rescale).
  static uint64_t q_inv_mod_q(const Parameters& p, int level, int i) {
    return p.rescale_inv_[level][i];
  }
};

}  // namespace blindfold::ckks::internal

#endif  // BLINDFOLD_CKKS_INTERNAL_ACCESS_H_
