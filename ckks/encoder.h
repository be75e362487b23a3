// File: ckks/encoder.h
// CKKS encoding through the canonical embedding (Cheon-Kim-Kim-Song,
// ASIACRYPT 2017, Sec. 3.2): a vector z of `slots` complex numbers becomes
// m(X) in Z[X]/(X^N + 1) with m(zeta^(5^j)) ~ Delta z_j, zeta = exp(i pi/N).
// The "special FFT" of HEAAN computes the embedding in O(n log n). With
// slots < N/2 the message lives in the subring of X^(N / 2 slots) and slot
// vectors repeat N / (2 slots) times, so rotations act within `slots`.
//
// Thread safety: const methods may be called concurrently.
#ifndef BLINDFOLD_CKKS_ENCODER_H_
#define BLINDFOLD_CKKS_ENCODER_H_

#include <complex>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "base/aligned.h"
#include "ckks/ciphertext.h"
#include "ckks/parameters.h"

namespace blindfold::ckks {

namespace internal {
struct EncoderPeer;
}  // namespace internal

// The moduli a plaintext is encoded over: Q_level (every op), or Q_level
// and the key-switching primes P, for Evaluator::MultiplyPlainSum (its
// products are taken before ModDown).
enum class PlaintextBasis { kQ, kQP };

// An encoding before any prime: the scaled, rounded coefficients (2 slots
// signed integers below 2^62 in magnitude, the others are zero), whatever
// the level. A compact form to keep (a server's cache of diagonals) and
// expand to a Plaintext at any level with Encoder::Expand, which skips the
// encoding's FFT and rounding. From Encoder::EncodeCompact only.
class CompactPlaintext {
 public:
  CompactPlaintext() = default;
  std::size_t slots() const { return slots_; }
  Scale scale() const { return scale_; }
  std::size_t bytes() const { return coeffs_.size() * sizeof(int64_t); }

 private:
  friend class Encoder;
  AlignedVector<int64_t> coeffs_;  // re parts, then im parts
  std::size_t slots_ = 0;
  Scale scale_;
  int bits_ = 1;  // of the largest magnitude
  uint64_t fingerprint_ = 0;
};

class Encoder {
 public:
  explicit Encoder(ParametersPtr params);

  // Encodes values (zero-padded to `slots`) at `level` and `scale`.
  // Errors (InvalidArgument, prefixed "Encode"): slots not a power of two in
  // [1, N/2], more values than slots, level outside [0, max_level], a value
  // that is not finite or whose |value * scale| reaches 2^120.
  // With kQP the P limbs follow the Q limbs, from the same integer
  // coefficients; other ops use the Q limbs as they are.
  absl::Status Encode(std::span<const std::complex<double>> values,
                      std::size_t slots, int level, Scale scale,
                      Plaintext* out, PlaintextBasis basis = PlaintextBasis::kQ) const;
  absl::Status Encode(std::span<const double> values, std::size_t slots,
                      int level, Scale scale, Plaintext* out,
                      PlaintextBasis basis = PlaintextBasis::kQ) const;
  // Encode in two steps: the coefficients (errors as Encode's, and
  // InvalidArgument "EncodeCompact: ..." when |value x scale| reaches 2^62),
  // then their reduction and NTT at `level` (Expand; errors: a compact form
  // of other parameters or empty, level outside [0, max_level]). Expand of
  // EncodeCompact is Encode, word for word.
  absl::StatusOr<CompactPlaintext> EncodeCompact(std::span<const double> values,
                                                 std::size_t slots, Scale scale) const;
  absl::Status Expand(const CompactPlaintext& compact, int level, Plaintext* out,
                      PlaintextBasis basis = PlaintextBasis::kQ) const;
  // Full slots, top level, default scale.
  absl::StatusOr<Plaintext> EncodeNew(std::span<const double> values) const;

  // Decodes all pt.slots slots. Errors: plaintext from other parameters or
  // malformed (limb count, form).
  absl::StatusOr<std::vector<std::complex<double>>> DecodeComplex(
      const Plaintext& pt) const;
  // Real parts of DecodeComplex.
  absl::StatusOr<std::vector<double>> Decode(const Plaintext& pt) const;

  const ParametersPtr& params() const { return params_; }

 private:
  friend struct internal::EncoderPeer;  // tests of the embedding

  // The special FFT on a power-of-two length n <= N/2, in place:
  // Embed maps w to z_j = sum_k w_k xi^(k 5^j), xi = exp(2 pi i / 4n);
  // EmbedInverse is its exact inverse.
  void Embed(std::span<std::complex<double>> vals) const;
  void EmbedInverse(std::span<std::complex<double>> vals) const;
  // The same on split real and imaginary parts (what Encode and Decode use).
  void EmbedSplit(double* re, double* im, std::size_t size) const;
  void EmbedInverseSplit(double* re, double* im, std::size_t size) const;

  // The scaled, rounded coefficients of `values` (EmbedInverse): 2 slots
  // doubles holding integers, their largest magnitude in *max_abs.
  absl::Status RoundedCoefficients(std::span<const std::complex<double>> values,
                                   std::size_t slots, int level, Scale scale,
                                   AlignedVector<double>* rounded, double* max_abs) const;
  // The compact form of RoundedCoefficients' output (max_abs < 2^62).
  CompactPlaintext MakeCompact(const AlignedVector<double>& rounded, std::size_t slots,
                               Scale scale, double max_abs) const;
  // Signed coefficients of a plaintext at `level` (CRT-composed).
  void ComposeCrt(const ring::RnsPoly& coeff, std::size_t gap,
                  AlignedVector<long double>* out) const;

  ParametersPtr params_;
  std::vector<std::complex<double>> ksi_;  // exp(2 pi i k / 2N), k <= 2N
  std::vector<uint64_t> rot_group_;        // 5^j mod 2N
  // The special FFT's twiddles by stage: stage len at [len/2 - 1, len - 1).
  AlignedVector<double> tw_re_, tw_im_;
  // Per level: CRT tables for composing m mod Q_l as a signed 128-bit int
  // (defined in encoder.cc; shared read-only by copies of the encoder).
  struct CrtLevel;
  std::shared_ptr<const std::vector<CrtLevel>> crt_;
};

}  // namespace blindfold::ckks

#endif  // BLINDFOLD_CKKS_ENCODER_H_
