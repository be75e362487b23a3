// File: ckks/parameters.h
// CKKS parameters: a plain, unchecked ParametersLiteral and the validated,
// immutable Parameters built from it by Parameters::Create().
//
// Create() enforces 128-bit classical security for uniform ternary secrets
// and the standard error (discrete Gaussian or centred binomial with
// sigma = 3.2, accepted in [3.19, 3.21]): log2(Q P) <= 218 / 438 / 881 for
// N = 2^13 / 2^14 / 2^15 per the HomomorphicEncryption.org standard
// (Albrecht et al., "Homomorphic Encryption Standard", 2018, Table 1, which
// stops at 2^15), and <= 1747 for N = 2^16 per the update of that table by
// Bossuat et al., "Security Guidelines for Implementing Homomorphic
// Encryption" (ePrint 2024/463), the bound OpenFHE also enforces for 2^16
// (HEStd_128_classic). Other rings, moduli and error widths exist only
// through CreateInsecureForTesting().
//
// Terms (docs/glossary.md): `level` is the index of the last active prime of
// Q; a fresh ciphertext is at max_level() = |Q| - 1. `dnum` is the number of
// key-switching digits, ceil(|Q| / |P|): more special primes, fewer digits.
#ifndef BLINDFOLD_CKKS_PARAMETERS_H_
#define BLINDFOLD_CKKS_PARAMETERS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ckks/scale.h"
#include "ring/basis.h"
#include "ring/ring_context.h"
#include "ring/sampler.h"

namespace blindfold::ckks {

namespace internal {
struct Access;
}  // namespace internal

enum class SecretDistribution : uint8_t {
  kUniformTernary = 0,  // coefficients uniform in {-1, 0, 1}
  kSparseTernary = 1,   // exactly secret_hamming_weight nonzero (insecure only)
};

struct ParametersLiteral {
  int log_n = 0;
  // Either explicit primes (q, p) or bit sizes (log_q, log_p) from which the
  // largest NTT-friendly primes are generated; explicit primes win.
  std::vector<uint64_t> q, p;
  std::vector<int> log_q, log_p;
  int log_default_scale = 0;
  SecretDistribution secret = SecretDistribution::kUniformTernary;
  int secret_hamming_weight = 0;
  ring::ErrorDistribution error = ring::ErrorDistribution::kDiscreteGaussian;
  double error_sigma = 3.2;
};

// Named 128-bit presets (data primes ~ scale bits, first prime 50 bits).
enum class Preset {
  kCkks128LogN13LogQP180,   // Q = 50+40+40, P = 50: 3 data primes
  kCkks128LogN14LogQP380,   // Q = 50+7x40,  P = 50: 8 data primes, dnum 8
  kCkks128LogN14LogQP430,   // Q = 50+7x40,  P = 2x50: the same chain, dnum 4
                            // (smaller keys, faster key switching)
  kCkks128LogN15LogQP872,   // Q = 50+19x38, P = 2x50: 20 data primes, dnum 10
  kCkks128LogN16LogQP1690,  // Q = 50+36x40, P = 4x50: 37 data primes, dnum 10
};
ParametersLiteral PresetLiteral(Preset preset);
std::string PresetName(Preset preset);

// Small rings for unit tests only; their names say so.
enum class TestPreset {
  kTestInsecureLogN10,       // Q = 50+3x40, P = 50
  kTestInsecureLogN11P2,     // Q = 50+5x40, P = 2x50 (dnum 3)
};
ParametersLiteral TestPresetLiteral(TestPreset preset);

// Max log2(QP) for 128-bit security with ternary secrets, or 0 when the
// standard gives no bound for this N.
int MaxLogQP128(int log_n);

// The standard error width and the range Create() accepts around it.
inline constexpr double kStandardErrorSigma = 3.2;
inline constexpr double kMinStandardErrorSigma = 3.19;
inline constexpr double kMaxStandardErrorSigma = 3.21;

// Limits every parameter set obeys (secure or not), so that loading an
// untrusted parameter blob costs bounded time and memory, and fixed-size
// key-switching buffers cannot overflow:
//  - N in [2^kMinLogN, 2^kMaxLogN] (Create: 2^13..2^16);
//  - at most kMaxPrimes primes in Q and P together (hence dnum <= |Q| < 64);
//  - N (|Q| + |P|) <= kMaxRingWords: the NTT tables take 48 bytes per word,
//    so a set costs at most ~150 MiB of tables (the N = 2^16 preset: 41
//    primes, 129 MiB);
//  - dnum <= kMaxDnum (key switching keeps one pointer per digit on the
//    stack; math kernels take at most 64 operands).
inline constexpr int kMinLogN = 4;
inline constexpr int kMaxLogN = 17;
inline constexpr int kMaxPrimes = 64;
inline constexpr std::size_t kMaxRingWords = std::size_t{48} << 16;
inline constexpr int kMaxDnum = 64;

class Parameters {
 public:
  // Validates and precomputes. Errors (InvalidArgument): N outside
  // 2^13..2^16, log2(QP) above the 128-bit bound (naming N, log2(QP) and the
  // bound), sparse secrets, error_sigma not the standard 3.2, malformed
  // primes or sizes, no special prime, a default scale not below the first
  // prime, the limits above exceeded. Every check runs before any
  // precomputation.
  static absl::StatusOr<std::shared_ptr<const Parameters>> Create(
      const ParametersLiteral& literal);
  // As Create() without the security checks (N may be 2^4..2^17, any
  // modulus size, sparse secrets, error_sigma in [1, 64]); the limits above
  // still apply.
  static absl::StatusOr<std::shared_ptr<const Parameters>>
  CreateInsecureForTesting(const ParametersLiteral& literal);

  int log_n() const { return log_n_; }
  std::size_t n() const { return std::size_t{1} << log_n_; }
  std::size_t max_slots() const { return n() / 2; }
  int max_level() const { return ring_->num_q() - 1; }
  int num_q() const { return ring_->num_q(); }
  int num_p() const { return ring_->num_p(); }
  int dnum() const { return decomposition_->dnum(); }
  uint64_t q(int i) const { return ring_->q(i).value; }
  uint64_t p(int k) const { return ring_->p(k).value; }
  Scale default_scale() const { return default_scale_; }
  double log_qp() const { return log_qp_; }
  bool secure() const { return secure_; }
  // 64-bit BLAKE2b digest of (N, Q, P): ciphertexts and keys carry it.
  uint64_t fingerprint() const { return fingerprint_; }
  // The literal with primes resolved (q, p filled in).
  const ParametersLiteral& literal() const { return literal_; }

  std::string ToString() const;

 private:
  // The ring, the key-switching decomposition and the rescale table are
  // engine internals: ckks/internal/access.h reaches them.
  friend struct internal::Access;
  Parameters() = default;
  static absl::StatusOr<std::shared_ptr<const Parameters>> Build(
      const ParametersLiteral& literal, bool enforce_security);

  int log_n_ = 0;
  ParametersLiteral literal_;
  Scale default_scale_;
  double log_qp_ = 0;
  bool secure_ = false;
  uint64_t fingerprint_ = 0;
  std::shared_ptr<const ring::RingContext> ring_;
  std::unique_ptr<ring::HybridDecomposition> decomposition_;
  std::vector<std::vector<uint64_t>> rescale_inv_;
};

using ParametersPtr = std::shared_ptr<const Parameters>;

}  // namespace blindfold::ckks

#endif  // BLINDFOLD_CKKS_PARAMETERS_H_
