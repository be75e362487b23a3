// File: examples/1_ckks_basics.cc
// Example 1: the CKKS basics, end to end at 128-bit security.
//
// Read this file top to bottom: each numbered step explains what the engine
// does and why. The program computes, on encrypted vectors x and y,
//
//     r[i] = x[i+1] * y[i+1] + w[i]      (w a public plaintext vector)
//
// i.e. one multiplication, one relinearization, one rescale, one rotation and
// one plaintext addition, then decrypts r and compares it with the same
// computation done in the clear. It exits non-zero if the error is larger
// than the precision this parameter set is expected to give, so it doubles
// as a test (ctest runs it as example_1_ckks_basics).
//
//   ./build/examples/1_ckks_basics
#include <cmath>
#include <complex>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/cpu_features.h"
#include "base/thread_pool.h"
#include "ckks/encoder.h"
#include "ckks/encryptor.h"
#include "ckks/evaluator.h"
#include "ckks/keys.h"
#include "ckks/parameters.h"

namespace {

using namespace blindfold::ckks;  // NOLINT: an example favours brevity

// Every engine call returns absl::Status / absl::StatusOr and never aborts on
// misuse; an example simply stops at the first error and says which step.
#define EXAMPLE_CHECK_OK(expr)                                              \
  do {                                                                      \
    const absl::Status _s = (expr);                                         \
    if (!_s.ok()) {                                                         \
      std::fprintf(stderr, "FAILED: %s\n  -> %s\n", #expr,                  \
                   std::string(_s.ToString()).c_str());                     \
      std::exit(1);                                                         \
    }                                                                       \
  } while (0)

template <typename T>
T ValueOrDie(absl::StatusOr<T> v, const char* what) {
  if (!v.ok()) {
    std::fprintf(stderr, "FAILED: %s\n  -> %s\n", what,
                 std::string(v.status().ToString()).c_str());
    std::exit(1);
  }
  return *std::move(v);
}

// log2 of the largest absolute difference (-inf when exact).
double Log2MaxError(const std::vector<double>& got, const std::vector<double>& want) {
  double err = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    err = std::max(err, std::abs(got[i] - want[i]));
  }
  return std::log2(err);
}

void Step(int n, const char* title) { std::printf("[%d] %s\n", n, title); }

}  // namespace

int main() {
  std::printf("Blindfold example 1: CKKS basics (kernel: %s, threads: %d)\n\n",
              std::string(blindfold::KernelPathName(blindfold::ActiveKernelPath())).c_str(),
              blindfold::ThreadCount());

  // ---------------------------------------------------------------------------
  // 1. Parameters.
  //
  // CKKS works in the ring R_Q = Z_Q[X]/(X^N + 1). Three choices matter:
  //  - N, the ring degree. A ciphertext packs N/2 complex numbers ("slots"),
  //    and every operation acts on all of them at once (SIMD).
  //  - Q = q_0 * q_1 * ... * q_{L-1}, the ciphertext modulus, kept as a chain
  //    of word-size primes (the RNS representation). Each multiplication
  //    consumes one prime (see step 5), so the chain length bounds the
  //    multiplicative depth.
  //  - P, the special primes used only inside key switching (relinearization
  //    and rotations), where they absorb the noise of the switch.
  // Security depends on N and log2(Q P) together: the larger the modulus, the
  // larger N must be. Parameters::Create() enforces the 128-bit bound of the
  // HomomorphicEncryption.org standard and refuses anything weaker.
  //
  // kCkks128LogN13LogQP180 is N = 2^13 (4096 slots) with Q = 50+40+40 bits
  // and P = 50 bits: log2(QP) ~ 180 <= 218, enough for two multiplications.
  // ---------------------------------------------------------------------------
  Step(1, "Parameters");
  const ParametersLiteral literal = PresetLiteral(Preset::kCkks128LogN13LogQP180);
  const ParametersPtr params = ValueOrDie(Parameters::Create(literal), "Parameters::Create");
  std::printf("    %s\n", params->ToString().c_str());
  std::printf("    128-bit secure: %s (log2(QP) = %.1f, bound for N=2^%d: %d)\n",
              params->secure() ? "yes" : "no", params->log_qp(), params->log_n(),
              MaxLogQP128(params->log_n()));

  // The check is not advisory: one more 40-bit prime pushes log2(QP) past 218
  // and Create() returns an error instead of weak parameters.
  {
    ParametersLiteral too_big = literal;
    too_big.log_q.push_back(40);
    const auto refused = Parameters::Create(too_big);
    if (refused.ok()) {
      std::fprintf(stderr, "FAILED: insecure parameters were accepted\n");
      return 1;
    }
    std::printf("    one more 40-bit prime is refused:\n      %s\n",
                std::string(refused.status().message()).c_str());
  }

  // ---------------------------------------------------------------------------
  // 2. Levels and scales.
  //
  // CKKS encodes a real number v as the integer round(v * Delta); Delta is
  // the "scale" (here 2^40, the size of the data primes). The rounding error
  // and the encryption noise are then ~2^-40 relative to Delta: the scale
  // sets the precision.
  //
  // Multiplying two ciphertexts multiplies their scales (2^40 * 2^40 = 2^80).
  // Rescale divides by the last prime q_l (~2^40), bringing the scale back to
  // ~2^40 and dropping that prime: the ciphertext goes one "level" down. A
  // fresh ciphertext sits at the top level max_level() = |Q| - 1 (here 2),
  // and level 0 has only q_0 left: two multiplications are possible.
  // ---------------------------------------------------------------------------
  Step(2, "Levels and scales");
  std::printf("    top level %d, default scale %s, %zu slots\n", params->max_level(),
              params->default_scale().ToString().c_str(), params->max_slots());

  // ---------------------------------------------------------------------------
  // 3. Keys.
  //
  //  - The secret key s decrypts. It stays with the client.
  //  - The public key (b, a) = (-a s + e, a) lets anyone encrypt.
  //  - The relinearization key: a product of two ciphertexts is quadratic in
  //    s (three polynomials, "degree 2"); this key switches the s^2 part back
  //    to s so the result is an ordinary two-polynomial ciphertext again.
  //  - Galois keys: a rotation of the slots is an automorphism X -> X^g of
  //    the ring, which turns encryption under s into encryption under
  //    s(X^g). One Galois key per rotation amount switches it back to s.
  // The relinearization and Galois keys are evaluation keys: they go to the
  // server with the ciphertexts; they reveal nothing about s.
  // ---------------------------------------------------------------------------
  Step(3, "Keys");
  KeyGenerator keygen(params);
  const SecretKey sk = keygen.GenSecretKey();
  const PublicKey pk = ValueOrDie(keygen.GenPublicKey(sk), "GenPublicKey");
  const std::vector<int> rotations = {1};  // we rotate left by one slot
  // The evaluation keys form one immutable set, validated once here.
  const std::shared_ptr<const EvaluationKeys> eval_keys = ValueOrDie(
      EvaluationKeys::Create(
          params, ValueOrDie(keygen.GenRelinKey(sk), "GenRelinKey"),
          ValueOrDie(keygen.GenGaloisKeys(sk, rotations, /*conjugation=*/false),
                     "GenGaloisKeys")),
      "EvaluationKeys");
  std::printf("    secret, public, relinearization and %zu Galois key(s)\n",
              eval_keys->galois_elements().size());

  // ---------------------------------------------------------------------------
  // 4. Encode and encrypt.
  //
  // The Encoder maps a vector of up to N/2 numbers to a plaintext polynomial
  // (through the canonical embedding); EncodeNew uses all slots, the top
  // level and the default scale. The Encryptor with the public key adds fresh
  // randomness every call, so encrypting the same plaintext twice gives two
  // different ciphertexts. (An Encryptor built from the secret key makes
  // "seeded" ciphertexts whose second half is a 32-byte seed: half the size
  // on the wire, for clients that encrypt their own data.)
  // ---------------------------------------------------------------------------
  Step(4, "Encode and encrypt");
  const std::size_t slots = params->max_slots();
  std::mt19937_64 rng(2024);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  std::vector<double> x(slots), y(slots), w(slots);
  for (std::size_t i = 0; i < slots; ++i) {
    x[i] = dist(rng);
    y[i] = dist(rng);
    w[i] = dist(rng);
  }
  Encoder encoder(params);
  // Every engine object validates the keys it is given (parameters, shape).
  const Encryptor encryptor =
      ValueOrDie(Encryptor::Create(params, pk), "Encryptor");
  const Plaintext pt_x = ValueOrDie(encoder.EncodeNew(x), "Encode x");
  const Plaintext pt_y = ValueOrDie(encoder.EncodeNew(y), "Encode y");
  const Ciphertext ct_x = ValueOrDie(encryptor.EncryptNew(pt_x), "Encrypt x");
  const Ciphertext ct_y = ValueOrDie(encryptor.EncryptNew(pt_y), "Encrypt y");
  std::printf("    x, y: %zu random values in [-1, 1] each -> level %d, scale %s\n",
              slots, ct_x.level(), ct_x.scale().ToString().c_str());

  // ---------------------------------------------------------------------------
  // 5. Multiply, relinearize, rescale.
  //
  // The Evaluator holds only public material (parameters and evaluation
  // keys): it is what a server runs. Multiply gives a degree-2 ciphertext at
  // scale 2^80; Relinearize brings it back to degree 1; Rescale divides by
  // the last prime and drops one level. (MulRelin fuses the first two.)
  // ---------------------------------------------------------------------------
  Step(5, "Multiply, relinearize, rescale");
  const Evaluator evaluator =
      ValueOrDie(Evaluator::Create(params, eval_keys), "Evaluator");
  // (Only the secret key holder can measure the error; the example peeks
  // with a Decryptor after each step to show what each one costs.)
  const Decryptor peek_decryptor = ValueOrDie(
      Decryptor::Create(params, sk.Clone(), DecryptionOptions::Exact()), "Decryptor");
  auto peek_log2_error = [&](const Ciphertext& c, auto&& want_at) {
    const Plaintext p = ValueOrDie(peek_decryptor.DecryptNew(c), "Decrypt (peek)");
    const std::vector<double> v = ValueOrDie(encoder.Decode(p), "Decode (peek)");
    std::vector<double> want(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) want[i] = want_at(i);
    return Log2MaxError(v, want);
  };
  Ciphertext ct;
  EXAMPLE_CHECK_OK(evaluator.Multiply(ct_x, ct_y, &ct));
  std::printf("    multiply:    degree %d, level %d, scale %s\n", ct.degree(),
              ct.level(), ct.scale().ToString().c_str());
  EXAMPLE_CHECK_OK(evaluator.Relinearize(ct, &ct));
  std::printf("    relinearize: degree %d, level %d, scale %s\n", ct.degree(),
              ct.level(), ct.scale().ToString().c_str());
  EXAMPLE_CHECK_OK(evaluator.Rescale(ct, &ct));
  std::printf("    rescale:     degree %d, level %d, scale %s\n", ct.degree(),
              ct.level(), ct.scale().ToString().c_str());
  std::printf("    max error of x * y: 2^%.1f\n",
              peek_log2_error(ct, [&](std::size_t i) { return x[i] * y[i]; }));

  // ---------------------------------------------------------------------------
  // 6. Rotate.
  //
  // Rotate(ct, 1) moves every slot one place to the left: slot i now holds
  // what slot i+1 held (cyclically). It needs the Galois key for +1 made in
  // step 3; asking for a rotation without its key is an error, not a crash.
  // Rotations keep the level and the scale.
  // ---------------------------------------------------------------------------
  Step(6, "Rotate");
  EXAMPLE_CHECK_OK(evaluator.Rotate(ct, 1, &ct));
  {
    Ciphertext unused;
    const absl::Status missing = evaluator.Rotate(ct, 2, &unused);
    std::printf("    rotate by 1: level %d; rotate by 2 (no key): %s\n", ct.level(),
                missing.ok() ? "unexpectedly ok" : "refused");
  }
  // A key switch rounds its result to nearest (ring/basis.h, ModDown), so a
  // rotation adds almost nothing to the error of its input.
  std::printf("    max error of rotated x * y: 2^%.1f\n",
              peek_log2_error(ct, [&](std::size_t i) {
                const std::size_t j = (i + 1) % slots;
                return x[j] * y[j];
              }));

  // ---------------------------------------------------------------------------
  // 7. Add a plaintext.
  //
  // Additions require equal scales. After the rescale the scale is
  // 2^80 / q_2, close to but not exactly 2^40, so w is encoded directly at
  // the ciphertext's level and exact scale rather than with the defaults.
  // ---------------------------------------------------------------------------
  Step(7, "Add a plaintext");
  Plaintext pt_w;
  EXAMPLE_CHECK_OK(encoder.Encode(w, slots, ct.level(), ct.scale(), &pt_w));
  EXAMPLE_CHECK_OK(evaluator.AddPlain(ct, pt_w, &ct));
  std::printf("    w encoded at level %d, scale %s, and added\n", pt_w.level(),
              pt_w.scale().ToString().c_str());

  // ---------------------------------------------------------------------------
  // 8. Decrypt, decode and check.
  //
  // The client decrypts with s and decodes (dividing by the scale). CKKS is
  // approximate: the result differs from the exact one by the encoding
  // rounding plus the accumulated noise: about 2^-23 for a fresh ciphertext
  // and not much more after the multiplication and rotation (steps 5 and 6
  // print it). We require better than 2^-16 (about
  // 5 decimal digits) in every slot, for r and for a plain encrypt/decrypt
  // round trip of x.
  // ---------------------------------------------------------------------------
  Step(8, "Decrypt, decode and check");
  // Exact decryption gives c0 + c1 s, noise included: anyone who sees that
  // and the ciphertext can solve for s (Li-Micciancio). Exact() is for
  // results that stay with the key owner, like this check; see below for
  // results that may be shown to others. The secret key is move-only;
  // Clone() makes the copy we hand over.
  const Decryptor decryptor = ValueOrDie(
      Decryptor::Create(params, sk.Clone(), DecryptionOptions::Exact()), "Decryptor");
  const Plaintext pt_r = ValueOrDie(decryptor.DecryptNew(ct), "Decrypt");
  const std::vector<double> r = ValueOrDie(encoder.Decode(pt_r), "Decode");
  std::vector<double> want(slots);
  for (std::size_t i = 0; i < slots; ++i) {
    const std::size_t j = (i + 1) % slots;
    want[i] = x[j] * y[j] + w[i];
  }
  const Plaintext pt_x2 = ValueOrDie(decryptor.DecryptNew(ct_x), "Decrypt x");
  const std::vector<double> x2 = ValueOrDie(encoder.Decode(pt_x2), "Decode x");

  const double err_fresh = Log2MaxError(x2, x);
  const double err = Log2MaxError(r, want);
  std::printf("    r[0..2]  = % .7f % .7f % .7f\n", r[0], r[1], r[2]);
  std::printf("    expected = % .7f % .7f % .7f\n", want[0], want[1], want[2]);
  std::printf("    max error over %zu slots: fresh x 2^%.1f, r 2^%.1f\n", slots,
              err_fresh, err);

  // A Decryptor with default options floods the result with fresh Gaussian
  // noise that hides the ciphertext's own (ckks/noise_flooding.h): the
  // value to hand to anyone else, rounded to the precision the application
  // needs. It costs precision: about 2^-10 per slot at these parameters.
  {
    const Decryptor sharing_decryptor =
        ValueOrDie(Decryptor::Create(params, sk.Clone()), "Decryptor (flooding)");
    const Plaintext pt_f = ValueOrDie(sharing_decryptor.DecryptNew(ct), "Decrypt (flooded)");
    std::vector<double> r_f = ValueOrDie(encoder.Decode(pt_f), "Decode (flooded)");
    std::printf("    flooded (s = %d bits): max error 2^%.1f (slot stddev 2^%.1f)\n",
                sharing_decryptor.options().security_bits, Log2MaxError(r_f, want),
                std::log2(FloodingSlotStddev(*params, sharing_decryptor.options(), ct.scale())));
    RoundToBits(r_f, 8);
    std::printf("    rounded to 2^-8: r[0..2] = % .7f % .7f % .7f\n", r_f[0], r_f[1], r_f[2]);
  }

  constexpr double kMaxLog2Error = -16.0;
  if (!(err <= kMaxLog2Error) || !(err_fresh <= kMaxLog2Error)) {
    std::printf("\nFAIL: error above 2^%.0f\n", kMaxLog2Error);
    return 1;
  }
  std::printf("\nOK: decrypted result matches the plaintext computation "
              "(error < 2^%.0f)\n", kMaxLog2Error);
  return 0;
}
