// File: ckks/internal/access.h
// Write access to the fields of Plaintext and Ciphertext for the engine
// (encoder, encryptor, decryptor, evaluator, serialization) and for tests
// that build malformed values on purpose. Const arguments give const
// references. Not part of the public API.
#ifndef BLINDFOLD_CKKS_INTERNAL_ACCESS_H_
#define BLINDFOLD_CKKS_INTERNAL_ACCESS_H_

#include "ckks/ciphertext.h"

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
};

}  // namespace blindfold::ckks::internal

#endif  // BLINDFOLD_CKKS_INTERNAL_ACCESS_H_
