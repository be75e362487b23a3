// File: ckks/test_util.h
// Shared fixtures for CKKS tests: a full key set over given parameters, and
// precision measurement against a double/long-double reference.
#ifndef BLINDFOLD_CKKS_TEST_UTIL_H_
#define BLINDFOLD_CKKS_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <complex>
#include <memory>
#include <random>
#include <vector>

#include "ckks/encoder.h"
#include "ckks/encryptor.h"
#include "ckks/evaluator.h"
#include "ckks/keys.h"
#include "ckks/parameters.h"

namespace blindfold::ckks::testing {

// The value of a StatusOr that a test expects to be OK; aborts the test
// binary with the status otherwise (test setup only).
template <typename T>
T Must(absl::StatusOr<T> v) {
  if (!v.ok()) {
    ADD_FAILURE() << v.status();
    std::abort();
  }
  return *std::move(v);
}

struct Context {
  ParametersPtr params;
  std::unique_ptr<KeyGenerator> keygen;
  SecretKey sk;
  PublicKey pk;
  std::shared_ptr<const EvaluationKeys> keys;
  std::unique_ptr<Encoder> encoder;
  std::unique_ptr<Encryptor> encryptor;      // public key
  std::unique_ptr<Encryptor> sym_encryptor;  // secret key, seeded
  std::unique_ptr<Decryptor> decryptor;
  std::unique_ptr<Evaluator> evaluator;

  static std::unique_ptr<Context> Make(const ParametersLiteral& lit, bool secure,
                                       std::vector<int> rotations = {},
                                       bool conjugation = false) {
    auto c = std::make_unique<Context>();
    auto p = secure ? Parameters::Create(lit) : Parameters::CreateInsecureForTesting(lit);
    EXPECT_TRUE(p.ok()) << p.status();
    if (!p.ok()) return nullptr;
    c->params = *p;
    c->keygen = std::make_unique<KeyGenerator>(c->params);
    c->sk = c->keygen->GenSecretKey();
    c->pk = Must(c->keygen->GenPublicKey(c->sk));
    c->keys = Must(EvaluationKeys::Create(
        c->params, Must(c->keygen->GenRelinKey(c->sk)),
        Must(c->keygen->GenGaloisKeys(c->sk, rotations, conjugation))));
    c->encoder = std::make_unique<Encoder>(c->params);
    c->encryptor =
        std::make_unique<Encryptor>(Must(Encryptor::Create(c->params, c->pk)));
    c->sym_encryptor = std::make_unique<Encryptor>(
        Must(Encryptor::Create(c->params, c->sk.Clone())));
    c->decryptor = std::make_unique<Decryptor>(
        Must(Decryptor::Create(c->params, c->sk.Clone(),
                              DecryptionOptions::Exact())));  // engine precision
    c->evaluator =
        std::make_unique<Evaluator>(Must(Evaluator::Create(c->params, c->keys)));
    return c;
  }

  Ciphertext Encrypt(const std::vector<std::complex<double>>& v,
                     std::size_t slots = 0, int level = -1) {
    if (slots == 0) slots = params->max_slots();
    if (level < 0) level = params->max_level();
    Plaintext pt;
    EXPECT_TRUE(encoder->Encode(v, slots, level, params->default_scale(), &pt).ok());
    Ciphertext ct;
    EXPECT_TRUE(encryptor->Encrypt(pt, &ct).ok());
    return ct;
  }

  std::vector<std::complex<double>> Decrypt(const Ciphertext& ct) {
    auto pt = decryptor->DecryptNew(ct);
    EXPECT_TRUE(pt.ok()) << pt.status();
    auto z = encoder->DecodeComplex(*pt);
    EXPECT_TRUE(z.ok()) << z.status();
    return *z;
  }
};

inline std::vector<std::complex<double>> RandomComplex(std::size_t n,
                                                       std::mt19937_64& rng,
                                                       double bound = 1.0) {
  std::uniform_real_distribution<double> d(-bound, bound);
  std::vector<std::complex<double>> v(n);
  for (auto& x : v) x = {d(rng), d(rng)};
  return v;
}

// log2 of the largest absolute slot error (-inf when exact).
inline double Log2MaxError(const std::vector<std::complex<double>>& got,
                           const std::vector<std::complex<double>>& want) {
  double err = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    err = std::max(err, std::abs(got[i] - want[i]));
  }
  return std::log2(err);
}

}  // namespace blindfold::ckks::testing

#endif  // BLINDFOLD_CKKS_TEST_UTIL_H_
