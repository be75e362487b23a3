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
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "base/random.h"
#include "ckks/parameters.h"
#include "ring/poly.h"

namespace blindfold::ckks {

// s in NTT form over Q P. Never serialized by the server-side code paths and
// never logged. Move-only (Clone() copies explicitly), and its words are
// wiped on every path that releases them -- destruction and move-assignment
// over it -- before the buffer goes back to the buffer cache, so no later
// allocation of that size can see them.
class SecretKey {
 public:
  SecretKey() = default;
  SecretKey(ring::RnsPoly s, uint64_t fingerprint)
      : s_(std::move(s)), fingerprint_(fingerprint) {}
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  // Takes o's buffer; o is left empty (nothing is released).
  SecretKey(SecretKey&& o) noexcept
      : s_(std::move(o.s_)), fingerprint_(o.fingerprint_) {
    o.s_ = ring::RnsPoly();
  }
  // Wipes this key's words before its buffer is released.
  SecretKey& operator=(SecretKey&& o) noexcept {
    if (this != &o) {
      s_.SecureWipe();
      s_ = std::move(o.s_);
      o.s_ = ring::RnsPoly();
      fingerprint_ = o.fingerprint_;
    }
    return *this;
  }
  ~SecretKey() { s_.SecureWipe(); }

  SecretKey Clone() const { return SecretKey(s_, fingerprint_); }

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

// A key may be generated for a level below the top (Galois keys for
// rotations a plan only applies low in the chain): then it has the digits
// of that level over q_0..q_level and P, and switches ciphertexts at that
// level or below. Its limbs are the full key's limbs (a_j expands per
// prime), so it is the full key with the upper primes dropped.
struct SwitchingKey {
  std::vector<ring::RnsPoly> b, a;  // one pair per digit over Q_level P, NTT form
  Seed seed;                        // a_j = SampleUniform(seed, domain j)
  uint64_t fingerprint = 0;
  // The highest ciphertext level the key switches (-1: empty key).
  int level() const { return b.empty() ? -1 : b[0].num_q() - 1; }
};

struct RelinKey {
  SwitchingKey key;
};

// A mutable bundle of Galois keys as generated or deserialized; an
// Evaluator takes them only through the validated EvaluationKeys below.
struct GaloisKeys {
  std::map<uint64_t, SwitchingKey> keys;  // by galois_element
  uint64_t fingerprint = 0;
  bool Has(uint64_t galois_element) const { return keys.count(galois_element) > 0; }
};

// The server-side keys an Evaluator may use: an immutable set, validated
// once against the parameters by Create() (fingerprints, shapes, dnum,
// Galois elements odd and in [1, 2N)). Nothing can be added after
// construction; an Evaluator shares it read-only.
class EvaluationKeys {
 public:
  // Errors (InvalidArgument, "EvaluationKeys: ..."): a key from other
  // parameters or of the wrong shape, an invalid Galois element.
  static absl::StatusOr<std::shared_ptr<const EvaluationKeys>> Create(
      ParametersPtr params, std::optional<RelinKey> relin, GaloisKeys galois);
  EvaluationKeys(const EvaluationKeys&) = delete;
  EvaluationKeys& operator=(const EvaluationKeys&) = delete;

  const ParametersPtr& params() const { return params_; }
  uint64_t fingerprint() const { return params_->fingerprint(); }
  // nullptr when absent.
  const RelinKey* relin() const { return relin_ ? &*relin_ : nullptr; }
  const SwitchingKey* galois(uint64_t galois_element) const;
  bool HasGalois(uint64_t galois_element) const {
    return galois(galois_element) != nullptr;
  }
  std::vector<uint64_t> galois_elements() const;
  // The whole Galois set (for serialization).
  const GaloisKeys& galois_keys() const { return galois_; }

 private:
  EvaluationKeys() = default;
  ParametersPtr params_;
  std::optional<RelinKey> relin_;
  GaloisKeys galois_;
};

// Generates keys from a secret key made by GenSecretKey() for the same
// parameters; every method that takes a secret key validates it first.
class KeyGenerator {
 public:
  explicit KeyGenerator(ParametersPtr params);

  // Secret from the OS CSPRNG (uniform ternary or fixed weight per params).
  SecretKey GenSecretKey() const;
  // The secret expanded from a 32-byte seed (which must itself come from
  // the OS CSPRNG): a client stores the seed instead of the polynomial.
  SecretKey GenSecretKeyFromSeed(const Seed& seed) const;
  // Errors (InvalidArgument): sk from other parameters or malformed.
  absl::StatusOr<PublicKey> GenPublicKey(const SecretKey& sk) const;
  // `level`: the highest level the key will switch (-1: the top level);
  // lower levels make smaller keys. Errors also for a level out of range.
  absl::StatusOr<RelinKey> GenRelinKey(const SecretKey& sk, int level = -1) const;
  // Keys for left rotations by each of `rotations` (negative: right) and,
  // if `conjugation`, for complex conjugation. Duplicates collapse.
  absl::StatusOr<GaloisKeys> GenGaloisKeys(const SecretKey& sk,
                                           std::span<const int> rotations,
                                           bool conjugation, int level = -1) const;
  // Key for one Galois element (odd, < 2N), in the permuted form above.
  // Errors also for an even or out-of-range element.
  absl::StatusOr<SwitchingKey> GenGaloisKey(const SecretKey& sk,
                                            uint64_t galois_element,
                                            int level = -1) const;

 private:
  // Switching key from s' (NTT form over Q P) to sk. REQUIRES: both valid.
  // The key for ciphertexts up to `level` (validated by the caller).
  SwitchingKey GenSwitchingKey(const SecretKey& sk, const ring::RnsPoly& s_prime,
                               int level) const;
  // -1 -> the top level; errors for anything outside [0, top].
  absl::StatusOr<int> KeyLevel(int level, absl::string_view op) const;

  // e in NTT form over the given layout.
  ring::RnsPoly SampleErrorNtt(Prng& prng, int num_q, int num_p) const;

  ParametersPtr params_;
};

}  // namespace blindfold::ckks

#endif  // BLINDFOLD_CKKS_KEYS_H_
