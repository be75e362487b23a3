// Regression tests for issue 7 (engine hardening), one group per finding:
// keys validated where used (1), dnum and parameter-load cost bounds (2),
// immutable evaluation keys (3), secret wiping (4), the standard error width
// and the sourced 2^16 bound (6). Run under the ASan build too
// (BLINDFOLD_SANITIZE=ON): before the fixes the misuse cases below read or
// wrote out of bounds or aborted.
#include <gtest/gtest.h>
#include <sodium.h>

#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "base/aligned.h"
#include "base/buffer_cache.h"
#include "ckks/encryptor.h"
#include "ckks/evaluator.h"
#include "ckks/keys.h"
#include "ckks/parameters.h"
#include "ckks/serialization.h"
#include "ckks/test_util.h"
#include "math/primes.h"

namespace blindfold::ckks {
namespace {

using testing::Must;

ParametersPtr Insecure(TestPreset preset) {
  return Must(Parameters::CreateInsecureForTesting(TestPresetLiteral(preset)));
}

void ExpectInvalid(const absl::Status& s, absl::string_view substr) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find(substr), absl::string_view::npos)
      << "message \"" << s.message() << "\" lacks \"" << substr << "\"";
}

// --- Finding 1: every key is validated where it is used. -----------------

class KeyValidationTest : public ::testing::Test {
 protected:
  // Two parameter sets of different N and limb counts, keys for each.
  ParametersPtr small_ = Insecure(TestPreset::kTestInsecureLogN10);
  ParametersPtr big_ = Insecure(TestPreset::kTestInsecureLogN11P2);
  KeyGenerator small_gen_{small_}, big_gen_{big_};
  SecretKey small_sk_ = small_gen_.GenSecretKey();
  SecretKey big_sk_ = big_gen_.GenSecretKey();
};

TEST_F(KeyValidationTest, DecryptorRejectsSecretKeyOfOtherRing) {
  // Was: a heap overflow in the pointwise multiply of Decrypt (ASan).
  ExpectInvalid(Decryptor::Create(big_, small_sk_.Clone()).status(),
                "Decryptor: secret key belongs to other parameters");
  ExpectInvalid(Decryptor::Create(small_, big_sk_.Clone()).status(),
                "Decryptor: secret key");
  ExpectInvalid(Decryptor::Create(small_, SecretKey()).status(), "Decryptor");
  EXPECT_TRUE(Decryptor::Create(small_, small_sk_.Clone()).ok());
}

TEST_F(KeyValidationTest, DecryptorRejectsSameFingerprintWrongShape) {
  // A key that claims the right parameters but has too few limbs.
  ring::RnsPoly truncated = small_sk_.poly();
  truncated.TruncateQ(1);
  SecretKey forged(std::move(truncated), small_->fingerprint());
  ExpectInvalid(Decryptor::Create(small_, std::move(forged)).status(),
                "secret key has 1 + 0 limbs");
}

TEST_F(KeyValidationTest, EncryptorRejectsKeysOfOtherParameters) {
  const PublicKey big_pk = Must(big_gen_.GenPublicKey(big_sk_));
  ExpectInvalid(Encryptor::Create(small_, big_pk).status(),
                "Encryptor: public key belongs to other parameters");
  ExpectInvalid(Encryptor::Create(small_, big_sk_.Clone()).status(),
                "Encryptor: secret key belongs to other parameters");
  PublicKey forged = Must(small_gen_.GenPublicKey(small_sk_));
  forged.a = ring::RnsPoly(small_->n(), 1, 0, true);
  ExpectInvalid(Encryptor::Create(small_, forged).status(), "public key a has");
}

TEST_F(KeyValidationTest, KeyGeneratorRejectsSecretKeyOfOtherRing) {
  ExpectInvalid(small_gen_.GenPublicKey(big_sk_).status(), "GenPublicKey");
  ExpectInvalid(small_gen_.GenRelinKey(big_sk_).status(), "GenRelinKey");
  const std::vector<int> rot = {1};
  ExpectInvalid(small_gen_.GenGaloisKeys(big_sk_, rot, false).status(),
                "GenGaloisKeys");
}

TEST_F(KeyValidationTest, EvaluatorRejectsKeysOfOtherParameters) {
  // Was: an Evaluator built with keys of one set and parameters of another
  // read out of bounds in MulRelin.
  const RelinKey big_rk = Must(big_gen_.GenRelinKey(big_sk_));
  ExpectInvalid(EvaluationKeys::Create(small_, big_rk, {}).status(),
                "EvaluationKeys: relinearization key belongs to other parameters");
  const std::vector<int> rot = {1};
  ExpectInvalid(
      EvaluationKeys::Create(small_, std::nullopt,
                             Must(big_gen_.GenGaloisKeys(big_sk_, rot, false)))
          .status(),
      "EvaluationKeys: Galois keys belongs to other parameters");
  auto big_keys = Must(EvaluationKeys::Create(big_, big_rk, {}));
  ExpectInvalid(Evaluator::Create(small_, big_keys).status(),
                "Evaluator: evaluation keys belong to other parameters");
}

TEST_F(KeyValidationTest, EvaluationKeysRejectWrongDigitCount) {
  RelinKey rk = Must(big_gen_.GenRelinKey(big_sk_));
  ASSERT_GT(big_->dnum(), 1);
  rk.key.b.pop_back();
  rk.key.a.pop_back();
  ExpectInvalid(EvaluationKeys::Create(big_, rk, {}).status(),
                "a digits, expected 3 for level 5");
  RelinKey wrong_shape = Must(big_gen_.GenRelinKey(big_sk_));
  wrong_shape.key.a[0] = ring::RnsPoly(big_->n(), big_->num_q(), 0, true);
  ExpectInvalid(EvaluationKeys::Create(big_, wrong_shape, {}).status(),
                "relinearization key a_0 has");
}

// --- Finding 2: dnum and the cost of loading parameters are bounded. -----

TEST(ParameterLimitsTest, RejectsDnumAbove64) {
  // 65 Q primes and one special prime: dnum 65 overflowed the 64-entry
  // digit arrays of key switching (stack write in Release builds).
  ParametersLiteral lit;
  lit.log_n = 12;
  lit.log_q.assign(65, 40);
  lit.log_q[0] = 50;
  lit.log_p = {50};
  lit.log_default_scale = 40;
  ExpectInvalid(Parameters::CreateInsecureForTesting(lit).status(),
                "primes, at most 64 in all");
  // The same shape at N = 2^16 with small primes passes the 128-bit size
  // bound, so Create() must reject it by count as well.
  lit.log_n = 16;
  lit.log_q.assign(65, 24);
  lit.log_p = {24};
  lit.log_default_scale = 20;
  ExpectInvalid(Parameters::Create(lit).status(), "primes, at most 64 in all");
}

TEST(ParameterLimitsTest, LargestDnumStillWorks) {
  ParametersLiteral lit;
  lit.log_n = 10;
  lit.log_q.assign(63, 30);
  lit.log_p = {30};
  lit.log_default_scale = 20;
  auto p = Parameters::CreateInsecureForTesting(lit);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ((*p)->dnum(), 63);
  EXPECT_LE((*p)->dnum(), kMaxDnum);
}

// A serialized parameter blob (format of serialization.h) with the right
// fingerprint, so that only the parameter checks can reject it.
std::string ParameterBlob(int log_n, const std::vector<uint64_t>& q,
                          const std::vector<uint64_t>& p) {
  std::vector<uint64_t> words = {static_cast<uint64_t>(log_n), q.size()};
  words.insert(words.end(), q.begin(), q.end());
  words.push_back(p.size());
  words.insert(words.end(), p.begin(), p.end());
  unsigned char digest[8];
  crypto_generichash(digest, sizeof digest,
                     reinterpret_cast<const unsigned char*>(words.data()),
                     words.size() * sizeof(uint64_t), nullptr, 0);
  std::string s;
  auto put = [&s](uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
  };
  s += "BFCK";
  put(kSerializationVersion, 2);
  put(static_cast<uint8_t>(ObjectType::kParameters), 1);
  put(0, 1);
  s.append(reinterpret_cast<const char*>(digest), 8);
  put(24 + 20 + 8 * (q.size() + p.size()), 8);
  put(log_n, 1);
  put(q.size(), 1);
  put(p.size(), 1);
  put(20, 1);  // log_default_scale
  put(0, 1);   // uniform ternary
  put(0, 1);   // discrete Gaussian
  put(0, 2);
  put(0, 4);
  double sigma = 3.2;
  uint64_t sigma_bits;
  std::memcpy(&sigma_bits, &sigma, 8);
  put(sigma_bits, 8);
  for (uint64_t v : q) put(v, 8);
  for (uint64_t v : p) put(v, 8);
  return s;
}

TEST(ParameterLimitsTest, LoadingAParameterBlobHasBoundedCost) {
  // The 612-byte blob of the issue: N = 2^16, 70 Q primes and one P prime.
  // It used to build ~220 MB of NTT tables (about 1 s) before anything
  // rejected it; now the counts are checked first.
  auto primes = math::GenerateNttPrimes(30, 71, uint64_t{2} << 16);
  ASSERT_TRUE(primes.ok()) << primes.status();
  std::vector<uint64_t> q(primes->begin(), primes->end() - 1);
  const std::string blob = ParameterBlob(16, q, {primes->back()});
  EXPECT_EQ(blob.size(), 612u);
  ExpectInvalid(DeserializeParameters(blob, /*allow_insecure=*/true).status(),
                "64 in all");
  // Within the prime count but above the ring-word budget: N = 2^17 with
  // 30 primes would need 188 MiB of tables.
  auto primes17 = math::GenerateNttPrimes(40, 30, uint64_t{2} << 17);
  ASSERT_TRUE(primes17.ok()) << primes17.status();
  std::vector<uint64_t> q17(primes17->begin(), primes17->end() - 1);
  ExpectInvalid(DeserializeParameters(ParameterBlob(17, q17, {primes17->back()}),
                                      /*allow_insecure=*/true)
                    .status(),
                "words per polynomial");
}

// --- Finding 3: evaluation keys are an immutable, validated set. ---------

// Nothing can be added to a key set once an Evaluator may hold it: no
// default construction, no assignment, and Evaluators take it as const.
static_assert(!std::is_default_constructible_v<EvaluationKeys>);
static_assert(!std::is_copy_assignable_v<EvaluationKeys>);
static_assert(!std::is_move_assignable_v<EvaluationKeys>);
static_assert(std::is_same_v<decltype(EvaluationKeys::Create(nullptr, std::nullopt, {})),
                             absl::StatusOr<std::shared_ptr<const EvaluationKeys>>>);

TEST_F(KeyValidationTest, EvenGaloisElementIsAnError) {
  // Was: a CHECK abort in the automorphism index.
  ExpectInvalid(small_gen_.GenGaloisKey(small_sk_, 2).status(),
                "Galois element 2 is not odd");
  ExpectInvalid(small_gen_.GenGaloisKey(small_sk_, 2 * small_->n() + 1).status(),
                "is not odd in [1, 2048)");
  // A well-formed key filed under an even element.
  GaloisKeys gk;
  gk.fingerprint = small_->fingerprint();
  gk.keys.emplace(4, Must(small_gen_.GenGaloisKey(small_sk_, 5)));
  ExpectInvalid(EvaluationKeys::Create(small_, std::nullopt, gk).status(),
                "EvaluationKeys: Galois element 4 is not odd");
}

TEST_F(KeyValidationTest, MissingRotationKeyIsAnErrorNotAnAbort) {
  const std::vector<int> rot = {1};
  auto keys = Must(EvaluationKeys::Create(
      small_, std::nullopt, Must(small_gen_.GenGaloisKeys(small_sk_, rot, false))));
  Evaluator ev = Must(Evaluator::Create(small_, keys));
  Encoder enc(small_);
  Encryptor encryptor = Must(Encryptor::Create(small_, small_sk_.Clone()));
  std::vector<double> v(small_->max_slots(), 0.5);
  Ciphertext ct = Must(encryptor.EncryptNew(Must(enc.EncodeNew(v))));
  Ciphertext out;
  EXPECT_TRUE(ev.Rotate(ct, 1, &out).ok());
  EXPECT_EQ(ev.Rotate(ct, 3, &out).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ev.Conjugate(ct, &out).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ev.MulRelin(ct, ct, &out).code(), absl::StatusCode::kFailedPrecondition);
}

// --- Finding 4: secret material is wiped on every release path. ----------

static_assert(!std::is_copy_constructible_v<SecretKey>);
static_assert(!std::is_copy_assignable_v<SecretKey>);

// The number of words of `secret` found at the same place in a fresh
// buffer of the same size: the buffer cache hands out the buffer freed last.
std::size_t LeakedWords(const std::vector<uint64_t>& secret) {
  AlignedVector<uint64_t> fresh(secret.size());  // uninitialized, from the cache
  std::size_t same = 0;
  for (std::size_t i = 0; i < secret.size(); ++i) same += fresh[i] == secret[i];
  return same;
}

class SecretWipeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_GT(BufferCacheBudget(), 0u) << "the test needs the buffer cache";
    // The key buffer must be large enough to be cached.
    ASSERT_GE(params_->n() * (params_->num_q() + params_->num_p()) * 8,
              kMinCachedBytes);
  }
  static std::vector<uint64_t> Words(const SecretKey& sk) {
    return {sk.poly().words().begin(), sk.poly().words().end()};
  }
  ParametersPtr params_ = Insecure(TestPreset::kTestInsecureLogN11P2);
  KeyGenerator gen_{params_};
};

TEST_F(SecretWipeTest, MoveAssignmentWipesTheOverwrittenKey) {
  SecretKey sk = gen_.GenSecretKey();
  const std::vector<uint64_t> old = Words(sk);
  SecretKey next = gen_.GenSecretKey();
  sk = std::move(next);  // releases the old buffer into the cache
  EXPECT_EQ(LeakedWords(old), 0u);
}

TEST_F(SecretWipeTest, DestructionWipesTheKey) {
  std::vector<uint64_t> old;
  {
    SecretKey sk = gen_.GenSecretKey();
    old = Words(sk);
  }
  EXPECT_EQ(LeakedWords(old), 0u);
}

TEST_F(SecretWipeTest, ReplacingTheKeyOfAnOptionalWipesIt) {
  std::optional<SecretKey> holder = gen_.GenSecretKey();
  const std::vector<uint64_t> old = Words(*holder);
  holder = gen_.GenSecretKey();
  EXPECT_EQ(LeakedWords(old), 0u);
  holder.reset();
}

TEST_F(SecretWipeTest, MovedFromKeyKeepsNothing) {
  SecretKey sk = gen_.GenSecretKey();
  SecretKey taken = std::move(sk);
  EXPECT_TRUE(sk.poly().empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_FALSE(taken.poly().empty());
  SecretKey clone = taken.Clone();
  EXPECT_TRUE(clone.poly() == taken.poly());
}

// --- Finding 6: only the standard error width is 128-bit. ----------------

TEST(SecurityBoundsTest, NonStandardErrorSigmaIsNotSecure) {
  ParametersLiteral lit = PresetLiteral(Preset::kCkks128LogN13LogQP180);
  for (double sigma : {1.0, 3.0, 3.18, 3.22, 8.0, 64.0}) {
    lit.error_sigma = sigma;
    ExpectInvalid(Parameters::Create(lit).status(), "is not the standard 3.2");
    auto insecure = Parameters::CreateInsecureForTesting(lit);
    ASSERT_TRUE(insecure.ok()) << insecure.status();
    EXPECT_FALSE((*insecure)->secure()) << sigma;
  }
  for (double sigma : {3.19, 3.2, 3.21}) {
    lit.error_sigma = sigma;
    auto p = Parameters::Create(lit);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_TRUE((*p)->secure());
  }
}

TEST(SecurityBoundsTest, RingOf2To16UsesTheSourcedBound) {
  // 1747 (Bossuat et al., ePrint 2024/463; OpenFHE HEStd_128_classic), not
  // the unsourced 1772: a 1760-bit modulus at N = 2^16 is not 128-bit.
  EXPECT_EQ(MaxLogQP128(16), 1747);
  ParametersLiteral lit;
  lit.log_n = 16;
  lit.log_q.assign(43, 40);  // 1720 + 40 = 1760 bits
  lit.log_p = {40};
  lit.log_default_scale = 30;
  ExpectInvalid(Parameters::Create(lit).status(), "exceeds the 128-bit bound 1747");
  EXPECT_TRUE(Parameters::Create(PresetLiteral(Preset::kCkks128LogN16LogQP1690)).ok());
}

}  // namespace
}  // namespace blindfold::ckks
