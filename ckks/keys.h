// File: ckks/keys.h
// Secret, public and key-switching keys, and their generator.
//
// A switching key from s' to s has one RLWE pair per digit j of the hybrid
// decomposition (ring/basis.h), over Q P in NTT form:
//   b_j = -a_j s + e_j + P g_j s',   a_j uniform from a seed,
// where g_j = 1 mod the primes of digit j and 0 mod the other primes of Q.
// Relinearization keys use s' = s^2. The Galois key of element g is stored
// permuted by sigma_g^-1 (as in Lattigo; Bossuat et al., EUROCRYPT 2021,
// Sec. 5): b_j = -a_j sigma_g^-1(s) + e_j + P g_j s, so that a rotation
// key-switches the unrotated c_1 and applies sigma_g once to the two output
// polynomials. With hoisting, the decomposed digits are then shared as they
// are instead of being permuted once per rotation.
#ifndef BLINDFOLD_CKKS_KEYS_H_
#define BLINDFOLD_CKKS_KEYS_H_

#include <map>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "base/random.h"
#include "ckks/parameters.h"
#include "ring/poly.h"

namespace blindfold::ckks {

// s in NTT form over Q P. Wiped when destroyed; never serialized by the
// server-side code paths and never logged.
class SecretKey {
 public:
  SecretKey() = default;
  SecretKey(ring::RnsPoly s, uint64_t fingerprint)
      : s_(std::move(s)), fingerprint_(fingerprint) {}
  SecretKey(const SecretKey&) = default;
  SecretKey& operator=(const SecretKey&) = default;
  SecretKey(SecretKey&&) = default;
  SecretKey& operator=(SecretKey&&) = default;
  ~SecretKey() { s_.SecureWipe(); }

  const ring::RnsPoly& poly() const { return s_; }
  uint64_t fingerprint() const { return fingerprint_; }

 private:
  ring::RnsPoly s_;
  uint64_t fingerprint_ = 0;
};

// (b, a) = (-a s + e, a) over Q, NTT form; a is expanded from `seed`, so
// a serialized public key is the seed and b.
struct PublicKey {
  ring::RnsPoly b, a;
  Seed seed;  // a = ExpandPublicKeyA(seed)
  uint64_t fingerprint = 0;
};

struct SwitchingKey {
  std::vector<ring::RnsPoly> b, a;  // dnum pairs over Q P, NTT form
  Seed seed;                        // a_j = SampleUniform(seed, domain j)
  uint64_t fingerprint = 0;
};

struct RelinKey {
  SwitchingKey key;
};

struct GaloisKeys {
  std::map<uint64_t, SwitchingKey> keys;  // by galois_element
  uint64_t fingerprint = 0;
  bool Has(uint64_t galois_element) const { return keys.count(galois_element) > 0; }
};

class KeyGenerator {
 public:
  explicit KeyGenerator(ParametersPtr params);

  // Secret from the OS CSPRNG (uniform ternary or fixed weight per params).
  SecretKey GenSecretKey() const;
  // The secret expanded from a 32-byte seed (which must itself come from
  // the OS CSPRNG): a client stores the seed instead of the polynomial.
  SecretKey GenSecretKeyFromSeed(const Seed& seed) const;
  PublicKey GenPublicKey(const SecretKey& sk) const;
  RelinKey GenRelinKey(const SecretKey& sk) const;
  // Keys for left rotations by each of `rotations` (negative: right) and,
  // if `conjugation`, for complex conjugation. Duplicates collapse.
  GaloisKeys GenGaloisKeys(const SecretKey& sk, std::span<const int> rotations,
                           bool conjugation) const;
  // Key for one Galois element (odd, < 2N), in the permuted form above.
  SwitchingKey GenGaloisKey(const SecretKey& sk, uint64_t galois_element) const;

  // Switching key from s' (NTT form over Q P) to sk.
  SwitchingKey GenSwitchingKey(const SecretKey& sk,
                               const ring::RnsPoly& s_prime) const;

 private:
  // e in NTT form over the given layout.
  ring::RnsPoly SampleErrorNtt(Prng& prng, int num_q, int num_p) const;

  ParametersPtr params_;
};

// Expands the uniform polynomial a of a public key (over Q).
void ExpandPublicKeyA(const Parameters& params, const Seed& seed,
                      ring::RnsPoly* a);
// Expands the uniform polynomial a_j of digit j of a switching key.
void ExpandSwitchingKeyA(const Parameters& params, const Seed& seed, int digit,
                         ring::RnsPoly* a);

}  // namespace blindfold::ckks

#endif  // BLINDFOLD_CKKS_KEYS_H_
