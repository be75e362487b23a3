#include "ckks/encoder.h"

#include <gtest/gtest.h>

#include <numbers>

#include "ckks/test_util.h"

namespace blindfold::ckks {
namespace {

using testing::Log2MaxError;
using testing::RandomComplex;

}  // namespace

// Reaches the encoder's private special FFT (declared a friend there).
namespace internal {
struct EncoderPeer {
  static void Embed(const Encoder& e, std::span<std::complex<double>> v) {
    e.Embed(v);
  }
  static void EmbedInverse(const Encoder& e, std::span<std::complex<double>> v) {
    e.EmbedInverse(v);
  }
};
}  // namespace internal

namespace {

ParametersPtr TestParams() {
  return *Parameters::CreateInsecureForTesting(
      TestPresetLiteral(TestPreset::kTestInsecureLogN10));
}

TEST(EncoderTest, SpecialFftMatchesDirectEmbedding) {
  Encoder enc(TestParams());
  std::mt19937_64 rng(1);
  for (std::size_t size : {1u, 2u, 8u, 64u, 512u}) {
    auto w = RandomComplex(size, rng);
    // z_j = sum_k w_k xi^(k 5^j), xi = exp(2 pi i / 4 size).
    std::vector<std::complex<double>> direct(size);
    uint64_t rot = 1;
    for (std::size_t j = 0; j < size; ++j) {
      std::complex<long double> acc = 0;
      for (std::size_t k = 0; k < size; ++k) {
        const long double angle = 2 * std::numbers::pi_v<long double> *
                                  static_cast<long double>((k * rot) % (4 * size)) / (4 * size);
        acc += std::complex<long double>(w[k].real(), w[k].imag()) *
               std::complex<long double>(std::cos(angle), std::sin(angle));
      }
      direct[j] = {static_cast<double>(acc.real()), static_cast<double>(acc.imag())};
      rot = rot * 5 % (4 * size);
    }
    auto fast = w;
    internal::EncoderPeer::Embed(enc, fast);
    EXPECT_LT(Log2MaxError(fast, direct), -40) << "size " << size;
    internal::EncoderPeer::EmbedInverse(enc, fast);
    EXPECT_LT(Log2MaxError(fast, w), -45) << "size " << size;
  }
}

TEST(EncoderTest, RoundTripAtEverySlotCountAndLevel) {
  auto params = TestParams();
  Encoder enc(params);
  std::mt19937_64 rng(2);
  for (std::size_t slots = 1; slots <= params->max_slots(); slots *= 4) {
    for (int level : {0, params->max_level()}) {
      auto v = RandomComplex(slots, rng, 8.0);
      Plaintext pt;
      ASSERT_TRUE(enc.Encode(v, slots, level, params->default_scale(), &pt).ok());
      EXPECT_EQ(pt.level(), level);
      auto z = enc.DecodeComplex(pt);
      ASSERT_TRUE(z.ok());
      // Only rounding to integers: error ~ N / scale.
      EXPECT_LT(Log2MaxError(*z, v), -25) << "slots " << slots << " level " << level;
    }
  }
}

TEST(EncoderTest, LargeScaleUses128BitPath) {
  auto params = TestParams();
  Encoder enc(params);
  std::vector<double> v = {1e6, -3.5e6, 12345.678};
  Plaintext pt;
  // 2^90 x 2^22 needs 112-bit coefficients: beyond int64.
  ASSERT_TRUE(enc.Encode(v, 4, params->max_level(), Scale::FromLog2(90), &pt).ok());
  auto back = enc.Decode(pt);
  ASSERT_TRUE(back.ok());
  for (std::size_t i = 0; i < v.size(); ++i) EXPECT_NEAR((*back)[i], v[i], 1e-6);
}

// The two-step encoding (the server's compact cached diagonals) is the
// encoding word for word, at every level, sparse and full slots, over Q and
// over Q and P; and its misuse is refused.
TEST(EncoderTest, CompactFormExpandsToTheEncodingWordForWord) {
  const ParametersPtr params = TestParams();
  Encoder enc(params);
  std::mt19937_64 rng(3);
  for (std::size_t slots : {std::size_t{4}, params->max_slots()}) {
    std::vector<double> v(slots);
    std::uniform_real_distribution<double> u(-3, 3);
    for (double& x : v) x = u(rng);
    const Scale scale = Scale::FromLog2(30);
    auto compact = enc.EncodeCompact(v, slots, scale);
    ASSERT_TRUE(compact.ok()) << compact.status();
    EXPECT_EQ(compact->bytes(), 2 * slots * sizeof(int64_t));
    EXPECT_EQ(compact->slots(), slots);
    for (int level = 0; level <= params->max_level(); ++level) {
      for (PlaintextBasis basis : {PlaintextBasis::kQ, PlaintextBasis::kQP}) {
        Plaintext want, got;
        ASSERT_TRUE(enc.Encode(v, slots, level, scale, &want, basis).ok());
        ASSERT_TRUE(enc.Expand(*compact, level, &got, basis).ok());
        EXPECT_TRUE(got.poly() == want.poly()) << "slots " << slots << " level " << level;
        EXPECT_EQ(got.scale(), want.scale());
        EXPECT_EQ(got.slots(), want.slots());
        EXPECT_EQ(got.poly().num_p(), basis == PlaintextBasis::kQP ? params->num_p() : 0);
      }
    }
  }
  Plaintext out;
  EXPECT_NE(enc.Expand(CompactPlaintext(), 0, &out).message().find("other parameters, or empty"),
            std::string::npos);
  auto c = enc.EncodeCompact(std::vector<double>{1.0}, 4, Scale::FromLog2(30));
  ASSERT_TRUE(c.ok());
  EXPECT_NE(enc.Expand(*c, params->max_level() + 1, &out).message().find("outside"),
            std::string::npos);
  Encoder other(*Parameters::CreateInsecureForTesting(
      TestPresetLiteral(TestPreset::kTestInsecureLogN11P2)));
  EXPECT_FALSE(other.Expand(*c, 0, &out).ok());
  // Coefficients of 2^62 and more have no compact form (Encode takes them).
  auto big = enc.EncodeCompact(std::vector<double>{1.0}, 4, Scale::FromLog2(70));
  EXPECT_NE(big.status().message().find("2^62"), std::string::npos) << big.status();
}

TEST(EncoderTest, RejectsBadInput) {
  auto params = TestParams();
  Encoder enc(params);
  Plaintext pt;
  std::vector<double> v(5, 1.0);
  EXPECT_FALSE(enc.Encode(v, 4, 0, params->default_scale(), &pt).ok());   // too many
  EXPECT_FALSE(enc.Encode(v, 6, 0, params->default_scale(), &pt).ok());   // not 2^k
  EXPECT_FALSE(enc.Encode(v, 1024, 0, params->default_scale(), &pt).ok());  // > N/2
  EXPECT_FALSE(enc.Encode(v, 8, 7, params->default_scale(), &pt).ok());   // level
  v[2] = std::nan("");
  auto s = enc.Encode(v, 8, 0, params->default_scale(), &pt);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("not finite"), std::string::npos);
  std::vector<double> huge = {1e30};
  EXPECT_FALSE(enc.Encode(huge, 8, 0, params->default_scale(), &pt).ok());
}

}  // namespace
}  // namespace blindfold::ckks
