// Noise flooding at decryption (issue 7, finding 8): on by default, fresh
// per decryption, of the documented size, and off only when asked.
#include "ckks/noise_flooding.h"

#include <gtest/gtest.h>

#include <cmath>

#include "ckks/internal/access.h"
#include "ckks/test_util.h"

namespace blindfold::ckks {
namespace {

using testing::Context;
using testing::RandomComplex;
using cvec = std::vector<std::complex<double>>;

Context& Ctx14() {
  static auto* c =
      Context::Make(PresetLiteral(Preset::kCkks128LogN14LogQP380), true, {1}).release();
  return *c;
}

cvec DecryptDecode(const Decryptor& d, Context& c, const Ciphertext& ct) {
  auto pt = d.DecryptNew(ct);
  EXPECT_TRUE(pt.ok()) << pt.status();
  auto z = c.encoder->DecodeComplex(*pt);
  EXPECT_TRUE(z.ok()) << z.status();
  return *z;
}

TEST(NoiseFloodingTest, OnByDefaultOnTheClientPath) {
  Context& c = Ctx14();
  EXPECT_TRUE(DecryptionOptions{}.flood_noise);
  const Decryptor client = testing::Must(Decryptor::Create(c.params, c.sk.Clone()));  // what a client constructs
  EXPECT_TRUE(client.options().flood_noise);
  std::mt19937_64 rng(1);
  const Ciphertext ct = c.Encrypt(RandomComplex(c.params->max_slots(), rng));
  auto a = client.DecryptNew(ct);
  auto b = client.DecryptNew(ct);
  ASSERT_TRUE(a.ok() && b.ok());
  // Fresh flooding each time: the exact c0 + c1 s is never returned.
  EXPECT_FALSE(a->poly() == b->poly());
  auto exact = c.decryptor->DecryptNew(ct);
  ASSERT_TRUE(exact.ok());
  EXPECT_FALSE(a->poly() == exact->poly());
}

TEST(NoiseFloodingTest, ExactDecryptionIsRepeatable) {
  Context& c = Ctx14();
  const Decryptor exact =
      testing::Must(Decryptor::Create(c.params, c.sk.Clone(), DecryptionOptions::Exact()));
  std::mt19937_64 rng(2);
  const Ciphertext ct = c.Encrypt(RandomComplex(c.params->max_slots(), rng));
  auto a = exact.DecryptNew(ct);
  auto b = exact.DecryptNew(ct);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(a->poly() == b->poly());
}

// Two flooded decryptions differ below the documented deviation and agree
// within it; the spread is the documented sigma_f sqrt(N/2) / scale.
TEST(NoiseFloodingTest, FloodedDecryptionsDifferInLowBitsWithinTheBound) {
  Context& c = Ctx14();
  const Decryptor client = testing::Must(Decryptor::Create(c.params, c.sk.Clone()));
  std::mt19937_64 rng(3);
  const cvec want = RandomComplex(c.params->max_slots(), rng);
  const Ciphertext ct = c.Encrypt(want);
  const double sigma = FloodingSlotStddev(*c.params, client.options(), ct.scale());
  // Defaults at N = 2^14, scale 2^40: about 2^-10 per slot (noise_flooding.h).
  EXPECT_GT(sigma, std::exp2(-11.5));
  EXPECT_LT(sigma, std::exp2(-9.5));
  const cvec a = DecryptDecode(client, c, ct);
  const cvec b = DecryptDecode(client, c, ct);
  double max_diff = 0, max_err = 0, sum_sq = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    const std::complex<double> d = a[i] - b[i];
    max_diff = std::max({max_diff, std::abs(d.real()), std::abs(d.imag())});
    max_err = std::max({max_err, std::abs(a[i].real() - want[i].real()),
                        std::abs(a[i].imag() - want[i].imag())});
    sum_sq += d.real() * d.real() + d.imag() * d.imag();
  }
  // Differ: in the low bits, well above the engine's own 2^-21.
  EXPECT_GT(max_diff, sigma);
  // Agree: a difference of two floodings has deviation sqrt(2) sigma; 8
  // sigma per value is beyond reach (p < 2^-45 per value).
  EXPECT_LT(max_diff, 8 * std::sqrt(2.0) * sigma);
  EXPECT_LT(max_err, 8 * sigma);
  // The spread is the documented one (2 * 8192 samples: within 5 %).
  const double measured = std::sqrt(sum_sq / (2.0 * want.size()) / 2.0);
  EXPECT_NEAR(measured / sigma, 1.0, 0.05) << "measured " << measured << " documented " << sigma;
}

TEST(NoiseFloodingTest, StrongerSettingsCostPrecisionAsDocumented) {
  Context& c = Ctx14();
  DecryptionOptions o;
  const double base = FloodingLog2Stddev(*c.params, o);
  o.security_bits += 2;  // one more bit of deviation per 2 bits of s
  EXPECT_NEAR(FloodingLog2Stddev(*c.params, o), base + 1, 1e-12);
  o.max_decryptions_per_ciphertext = 4;  // sqrt(t)
  EXPECT_NEAR(FloodingLog2Stddev(*c.params, o), base + 2, 1e-12);
  o.noise_log2_bound = 10;
  EXPECT_NEAR(FloodingLog2Stddev(*c.params, o), 10 + (20 + 2) / 2.0 + 1, 1e-12);
}

TEST(NoiseFloodingTest, RejectsSettingsThatDoNotFit) {
  Context& c = Ctx14();
  std::mt19937_64 rng(4);
  const Ciphertext ct = c.Encrypt(RandomComplex(c.params->max_slots(), rng));
  for (auto mutate : std::vector<void (*)(DecryptionOptions&)>{
           [](DecryptionOptions& o) { o.security_bits = -1; },
           [](DecryptionOptions& o) { o.security_bits = 129; },
           [](DecryptionOptions& o) { o.security_bits = 80; },  // 2^40 * B > q_0
           [](DecryptionOptions& o) { o.max_decryptions_per_ciphertext = 0; },
           [](DecryptionOptions& o) { o.noise_log2_bound = -3; },
           [](DecryptionOptions& o) { o.noise_log2_bound = INFINITY; }}) {
    DecryptionOptions o;
    mutate(o);
    // Checked once, when the decryptor is made.
    EXPECT_EQ(Decryptor::Create(c.params, c.sk.Clone(), o).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  // Off: nothing to check.
  DecryptionOptions off = DecryptionOptions::Exact();
  off.security_bits = 1000;
  EXPECT_TRUE(testing::Must(Decryptor::Create(c.params, c.sk.Clone(), off)).DecryptNew(ct).ok());
}

// The default bound B must cover the noise of ordinary ciphertexts, or the
// flooding is weaker than documented: measure |e|_inf of fresh, multiplied
// and rotated ciphertexts (unit-box inputs, scale 2^40) against it.
TEST(NoiseFloodingTest, DefaultNoiseBoundCoversComputedCiphertexts) {
  Context& c = Ctx14();
  const double log2_bound = DefaultNoiseLog2Bound(*c.params);
  std::mt19937_64 rng(5);
  const std::size_t slots = c.params->max_slots();
  const cvec x = RandomComplex(slots, rng), y = RandomComplex(slots, rng);
  auto log2_noise = [&](const Ciphertext& ct, const cvec& want) {
    auto m = c.decryptor->DecryptNew(ct);  // exact
    EXPECT_TRUE(m.ok());
    Plaintext ref;
    EXPECT_TRUE(c.encoder->Encode(want, ct.slots(), ct.level(), ct.scale(), &ref).ok());
    ring::RnsPoly e = m->poly();
    ring::Sub(internal::Access::ring(*c.params), m->poly(), ref.poly(), &e);
    ring::FromNtt(internal::Access::ring(*c.params), &e);
    const uint64_t q = c.params->q(0);
    double max = 0;
    for (std::size_t i = 0; i < c.params->n(); ++i) {
      const uint64_t v = e.limb(0)[i];
      max = std::max(max, static_cast<double>(v > q / 2 ? q - v : v));
    }
    return std::log2(max);
  };
  const Ciphertext cx = c.Encrypt(x), cy = c.Encrypt(y);
  cvec xy(slots), rot(slots);
  for (std::size_t i = 0; i < slots; ++i) xy[i] = x[i] * y[i];
  for (std::size_t i = 0; i < slots; ++i) rot[i] = xy[(i + 1) % slots];
  Ciphertext t;
  ASSERT_TRUE(c.evaluator->MulRelin(cx, cy, &t).ok());
  ASSERT_TRUE(c.evaluator->Rescale(t, &t).ok());
  const double fresh = log2_noise(cx, x), mul = log2_noise(t, xy);
  ASSERT_TRUE(c.evaluator->Rotate(t, 1, &t).ok());
  const double rotated = log2_noise(t, rot);
  std::printf("[ noise ] log2 |e|_inf: fresh %.2f, mul+rescale %.2f, +rotate %.2f; "
              "default bound %.2f\n", fresh, mul, rotated, log2_bound);
  EXPECT_LT(fresh, log2_bound - 1.5);
  EXPECT_LT(mul, log2_bound);
  EXPECT_LT(rotated, log2_bound);
}

TEST(NoiseFloodingTest, RoundToBits) {
  std::vector<double> v = {0.3, -0.3, 1.0 / 3, 2.5, -1e-9, INFINITY, 12345.678};
  RoundToBits(v, 2);
  EXPECT_EQ(v[0], 0.25);
  EXPECT_EQ(v[1], -0.25);
  EXPECT_EQ(v[2], 0.25);
  EXPECT_EQ(v[3], 2.5);
  EXPECT_EQ(v[4], 0.0);
  EXPECT_TRUE(std::isinf(v[5]));
  EXPECT_EQ(v[6], 12345.75);
  std::vector<double> w = {1000.0, 1500.0};
  RoundToBits(w, -10);  // multiples of 1024
  EXPECT_EQ(w[0], 1024.0);
  EXPECT_EQ(w[1], 1024.0);
  std::vector<std::complex<double>> z = {{0.126, -0.126}};
  RoundToBits(z, 3);
  EXPECT_EQ(z[0], std::complex<double>(0.125, -0.125));
}

}  // namespace
}  // namespace blindfold::ckks
