#include "ckks/parameters.h"

#include <gtest/gtest.h>

#include "math/primes.h"

namespace blindfold::ckks {
namespace {

TEST(ParametersTest, EveryPresetIsAccepted128Bit) {
  for (Preset p : {Preset::kCkks128LogN13LogQP180, Preset::kCkks128LogN14LogQP380,
                   Preset::kCkks128LogN14LogQP430, Preset::kCkks128LogN15LogQP872,
                   Preset::kCkks128LogN16LogQP1690}) {
    auto params = Parameters::Create(PresetLiteral(p));
    ASSERT_TRUE(params.ok()) << PresetName(p) << ": " << params.status();
    EXPECT_TRUE((*params)->secure());
    EXPECT_LE((*params)->log_qp(), MaxLogQP128((*params)->log_n()));
    // Distinct NTT-friendly primes.
    for (int i = 0; i < (*params)->num_q(); ++i) {
      EXPECT_EQ((*params)->q(i) % (2 * (*params)->n()), 1u);
      EXPECT_TRUE(math::IsPrime((*params)->q(i)));
    }
  }
  auto p14 = Parameters::Create(PresetLiteral(Preset::kCkks128LogN14LogQP380));
  EXPECT_EQ((*p14)->num_q(), 8);
  EXPECT_EQ((*p14)->dnum(), 8);
  auto p14d4 = Parameters::Create(PresetLiteral(Preset::kCkks128LogN14LogQP430));
  EXPECT_EQ((*p14d4)->num_q(), 8);
  EXPECT_EQ((*p14d4)->num_p(), 2);
  EXPECT_EQ((*p14d4)->dnum(), 4);
  auto p15 = Parameters::Create(PresetLiteral(Preset::kCkks128LogN15LogQP872));
  EXPECT_EQ((*p15)->num_q(), 20);
  EXPECT_EQ((*p15)->dnum(), 10);
}

TEST(ParametersTest, RefusesEverySetAboveTheBound) {
  for (int log_n = 13; log_n <= 16; ++log_n) {
    const int bound = MaxLogQP128(log_n);
    // Smallest set of 50-bit primes (+ one 50-bit special prime) over the bound.
    ParametersLiteral lit;
    lit.log_n = log_n;
    lit.log_default_scale = 40;
    lit.log_p = {50};
    const int count = bound / 50;  // count * 50 + 50 > bound
    lit.log_q.assign(count, 50);
    auto params = Parameters::Create(lit);
    ASSERT_FALSE(params.ok()) << "log_n " << log_n;
    const std::string msg(params.status().message());
    EXPECT_NE(msg.find("N = 2^" + std::to_string(log_n)), std::string::npos) << msg;
    EXPECT_NE(msg.find("log2(QP)"), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::to_string(bound)), std::string::npos) << msg;
    // The same set with one prime fewer fits.
    lit.log_q.pop_back();
    lit.log_q.pop_back();
    EXPECT_TRUE(Parameters::Create(lit).ok()) << "log_n " << log_n;
  }
}

TEST(ParametersTest, InsecureRingsOnlyThroughTestingFactory) {
  ParametersLiteral lit = TestPresetLiteral(TestPreset::kTestInsecureLogN10);
  auto refused = Parameters::Create(lit);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("CreateInsecureForTesting"), std::string::npos);
  auto params = Parameters::CreateInsecureForTesting(lit);
  ASSERT_TRUE(params.ok()) << params.status();
  EXPECT_FALSE((*params)->secure());
  EXPECT_NE((*params)->ToString().find("INSECURE"), std::string::npos);
}

TEST(ParametersTest, RejectsMalformedLiterals) {
  ParametersLiteral base = PresetLiteral(Preset::kCkks128LogN13LogQP180);
  auto no_p = base;
  no_p.log_p.clear();
  EXPECT_FALSE(Parameters::Create(no_p).ok());
  auto big_scale = base;
  big_scale.log_default_scale = 50;  // not below the 50-bit first prime
  EXPECT_FALSE(Parameters::Create(big_scale).ok());
  auto sparse = base;
  sparse.secret = SecretDistribution::kSparseTernary;
  sparse.secret_hamming_weight = 64;
  EXPECT_FALSE(Parameters::Create(sparse).ok());
  EXPECT_TRUE(Parameters::CreateInsecureForTesting(sparse).ok());
  auto bad_prime = base;
  bad_prime.q = {1000000007, 1000000009};
  bad_prime.p = {998244353};
  EXPECT_FALSE(Parameters::Create(bad_prime).ok());
  auto too_big = base;
  too_big.log_q = {62};
  EXPECT_FALSE(Parameters::Create(too_big).ok());
  // Explicit primes out of range are named before anything uses them.
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{1} << 62}) {
    auto zero = base;
    zero.q = {v, 1000000007};
    zero.p = {998244353};
    auto s = Parameters::CreateInsecureForTesting(zero).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("outside [3, 2^61)"), std::string::npos) << s;
  }
  auto bad_secret = base;
  bad_secret.secret = static_cast<SecretDistribution>(7);
  EXPECT_NE(Parameters::CreateInsecureForTesting(bad_secret).status().message().find(
                "unknown secret distribution 7"),
            std::string::npos);
  auto bad_error = base;
  bad_error.error = static_cast<ring::ErrorDistribution>(9);
  EXPECT_NE(Parameters::Create(bad_error).status().message().find(
                "unknown error distribution 9"),
            std::string::npos);
}

TEST(ParametersTest, FingerprintDependsOnModuli) {
  auto a = Parameters::Create(PresetLiteral(Preset::kCkks128LogN13LogQP180));
  auto b = Parameters::Create(PresetLiteral(Preset::kCkks128LogN13LogQP180));
  auto lit = PresetLiteral(Preset::kCkks128LogN13LogQP180);
  lit.log_q.pop_back();
  auto c = Parameters::Create(lit);
  EXPECT_EQ((*a)->fingerprint(), (*b)->fingerprint());
  EXPECT_NE((*a)->fingerprint(), (*c)->fingerprint());
}

}  // namespace
}  // namespace blindfold::ckks
