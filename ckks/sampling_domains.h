// File: ckks/sampling_domains.h
// Domains (ChaCha20 nonces, base/random.h) of the uniform polynomials the
// engine expands from 32-byte seeds. Each kind of object has its own range,
// so no two objects' streams coincide even if a seed were ever reused.
// Changing a value changes every seeded object's expansion: it is part of
// the serialized format.
#ifndef BLINDFOLD_CKKS_SAMPLING_DOMAINS_H_
#define BLINDFOLD_CKKS_SAMPLING_DOMAINS_H_

#include <cstdint>

namespace blindfold::ckks {

inline constexpr uint64_t kDomainPublicKeyA = 1;
inline constexpr uint64_t kDomainCiphertextC1 = 2;
// The secret key's ternary coefficients, from a client-held seed.
inline constexpr uint64_t kDomainSecretKey = 3;
// Switching keys: kDomainSwitchingKeyA + digit (digits < 2^32).
inline constexpr uint64_t kDomainSwitchingKeyA = uint64_t{1} << 32;

}  // namespace blindfold::ckks

#endif  // BLINDFOLD_CKKS_SAMPLING_DOMAINS_H_
