// Writes the seed corpus of the deserializer fuzzers: a few small valid
// serialized objects per target over the fuzz parameters (fuzz_common.h),
// plus a few malformed ones. Usage (see fuzz/README.md):
//   build-fuzz/fuzz/make_corpus fuzz/corpus
// writes <dir>/<target>/<name> for the targets parameters, plaintext,
// ciphertext, compact_ciphertext, public_key, relin_key and galois_keys. Keys come from fresh
// OS randomness, so every run writes different (equally good) bytes.
#include <complex>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ckks/encoder.h"
#include "ckks/encryptor.h"
#include "ckks/evaluator.h"
#include "ckks/keys.h"
#include "fuzz/fuzz_common.h"

namespace blindfold::fuzz {
namespace {

namespace fs = std::filesystem;
using ckks::ParametersLiteral;

template <typename T>
T Must(absl::StatusOr<T> r, const char* what) {
  if (!r.ok()) {
    std::fprintf(stderr, "make_corpus: %s: %s\n", what,
                 std::string(r.status().message()).c_str());
    std::exit(1);
  }
  return *std::move(r);
}

void Must(const absl::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "make_corpus: %s: %s\n", what,
                 std::string(s.message()).c_str());
    std::exit(1);
  }
}

class Out {
 public:
  explicit Out(fs::path root) : root_(std::move(root)) {}
  void Write(const std::string& target, const std::string& name,
             const std::string& bytes) {
    const fs::path dir = root_ / target;
    fs::create_directories(dir);
    std::ofstream f(dir / name, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!f) {
      std::fprintf(stderr, "make_corpus: cannot write %s\n",
                   (dir / name).c_str());
      std::exit(1);
    }
    std::printf("%-12s %-28s %6zu bytes\n", target.c_str(), name.c_str(),
                bytes.size());
  }

 private:
  fs::path root_;
};

void Put(std::string& s, std::size_t off, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s[off + i] = static_cast<char>(v >> (8 * i));
}
// The total-length field follows the buffer, so only the intended field is bad.
void FixTotal(std::string& s) { Put(s, 16, s.size(), 8); }

constexpr std::size_t kFields = ckks::kSerializationHeaderSize;

void WriteParameters(Out& out) {
  const auto& params = *FuzzParams();
  const std::string fuzz =
      Must(ckks::SerializeParameters(params), "fuzz params");
  out.Write("parameters", "valid_fuzz_logn4", fuzz);
  out.Write("parameters", "valid_test_logn10",
            Must(ckks::SerializeParameters(
                     *Must(ckks::Parameters::CreateInsecureForTesting(
                               ckks::TestPresetLiteral(
                                   ckks::TestPreset::kTestInsecureLogN10)),
                           "logn10")),
                 "logn10"));
  out.Write("parameters", "valid_128_logn13",
            Must(ckks::SerializeParameters(
                     *Must(ckks::Parameters::Create(ckks::PresetLiteral(
                               ckks::Preset::kCkks128LogN13LogQP180)),
                           "logn13")),
                 "logn13"));
  ParametersLiteral sparse = FuzzLiteral();
  sparse.secret = ckks::SecretDistribution::kSparseTernary;
  sparse.secret_hamming_weight = 4;
  sparse.error = ring::ErrorDistribution::kCenteredBinomial;
  out.Write(
      "parameters", "valid_sparse_binomial",
      Must(ckks::SerializeParameters(*Must(
               ckks::Parameters::CreateInsecureForTesting(sparse), "sparse")),
           "sparse"));
  std::string s = fuzz.substr(0, fuzz.size() - 5);
  out.Write("parameters", "bad_truncated", s);
  s = fuzz;
  Put(s, kFields + 20, 0, 8);  // q_0 = 0
  out.Write("parameters", "bad_zero_prime", s);
  s = fuzz;
  s[kFields + 1] = static_cast<char>(200);  // |Q|
  out.Write("parameters", "bad_prime_count", s);
}

void WriteObjects(Out& out) {
  const ckks::ParametersPtr& params = FuzzParams();
  const ckks::Parameters& p = *params;
  ckks::KeyGenerator keygen(params);
  const ckks::SecretKey sk = keygen.GenSecretKey();
  const ckks::PublicKey pk = Must(keygen.GenPublicKey(sk), "public key");
  const ckks::RelinKey rk = Must(keygen.GenRelinKey(sk), "relin key");
  ckks::Encoder encoder(params);
  const ckks::Encryptor sym =
      Must(ckks::Encryptor::Create(params, sk.Clone()), "encryptor");
  const ckks::Encryptor pub = Must(ckks::Encryptor::Create(params, pk), "encryptor");
  const ckks::Evaluator ev = Must(
      ckks::Evaluator::Create(
          params, Must(ckks::EvaluationKeys::Create(params, rk, {}), "keys")),
      "evaluator");

  std::vector<std::complex<double>> v(p.max_slots());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = {0.1 * i, -0.05 * i};
  ckks::Plaintext top, low, one_slot;
  Must(encoder.Encode(v, p.max_slots(), p.max_level(), p.default_scale(), &top),
       "encode");
  Must(encoder.Encode(v, p.max_slots(), 0, p.default_scale(), &low), "encode");
  Must(encoder.Encode(std::vector<std::complex<double>>{{0.5, 0}}, 1, 1,
                      p.default_scale(), &one_slot),
       "encode");

  // Plaintexts.
  const std::string pt_top = Must(ckks::SerializePlaintext(p, top), "pt");
  out.Write("plaintext", "valid_top_level", pt_top);
  out.Write("plaintext", "valid_level0",
            Must(ckks::SerializePlaintext(p, low), "pt"));
  out.Write("plaintext", "valid_one_slot",
            Must(ckks::SerializePlaintext(p, one_slot), "pt"));
  std::string s = pt_top;
  Put(s, kFields, 9, 2);  // level
  out.Write("plaintext", "bad_level", s);
  s = pt_top;
  Put(s, kFields + 8, 0x7ff8000000000000u, 8);  // NaN scale
  out.Write("plaintext", "bad_nan_scale", s);

  // Ciphertexts.
  const ckks::Ciphertext seeded = Must(sym.EncryptNew(top), "encrypt");
  const ckks::Ciphertext seeded_low = Must(sym.EncryptNew(low), "encrypt");
  const ckks::Ciphertext full = Must(pub.EncryptNew(top), "encrypt");
  ckks::Ciphertext prod;
  Must(ev.Multiply(full, full, &prod), "multiply");
  const std::string ct_seeded =
      Must(ckks::SerializeCiphertext(p, seeded), "ct");
  const std::string ct_full = Must(ckks::SerializeCiphertext(p, full), "ct");
  out.Write("ciphertext", "valid_seeded_top_level", ct_seeded);
  out.Write("ciphertext", "valid_seeded_level0",
            Must(ckks::SerializeCiphertext(p, seeded_low), "ct"));
  out.Write("ciphertext", "valid_full", ct_full);
  out.Write("ciphertext", "valid_degree2",
            Must(ckks::SerializeCiphertext(p, prod), "ct"));
  s = ct_seeded + "trailing";
  out.Write("ciphertext", "bad_trailing_bytes", s);
  s = ct_full;
  s[kFields + 2] = 3;  // degree
  out.Write("ciphertext", "bad_degree3", s);
  s = ct_full;
  for (int i = 0; i < 8; ++i)
    s[kFields + 16 + i] = static_cast<char>(0xff);  // c0[0] >= q_0
  out.Write("ciphertext", "bad_residue", s);

  // Compact ciphertexts (a server's result): level 0 and level 1, a short
  // period and every slot.
  ckks::Ciphertext at1, at0;
  Must(ev.DropLevel(full, 1, &at1), "drop");
  Must(ev.DropLevel(full, 0, &at0), "drop");
  const std::string compact =
      Must(ckks::SerializeCompactCiphertext(p, at1, {2, 10}), "compact");
  out.Write("compact_ciphertext", "valid_level1_period2", compact);
  out.Write("compact_ciphertext", "valid_level0_all_slots",
            Must(ckks::SerializeCompactCiphertext(
                     p, at0, {static_cast<int>(p.max_slots()), 0}),
                 "compact"));
  s = compact;
  s[kFields + 17] = 5;  // value_bits
  out.Write("compact_ciphertext", "bad_value_bits", s);
  out.Write("compact_ciphertext", "bad_truncated", compact.substr(0, compact.size() - 3));

  // Public key.
  const std::string pk_bytes = Must(ckks::SerializePublicKey(p, pk), "pk");
  out.Write("public_key", "valid", pk_bytes);
  s = pk_bytes;
  s[8] ^= 1;  // fingerprint
  out.Write("public_key", "bad_fingerprint", s);

  // Relinearization key.
  const std::string rk_bytes = Must(ckks::SerializeRelinKey(p, rk), "rk");
  out.Write("relin_key", "valid", rk_bytes);
  s = rk_bytes;
  Put(s, kFields + 4, 2, 2);  // dnum
  out.Write("relin_key", "bad_dnum", s);
  out.Write("relin_key", "bad_truncated",
            rk_bytes.substr(0, rk_bytes.size() / 2));
  out.Write("relin_key", "valid_level_0",
            Must(ckks::SerializeRelinKey(p, Must(keygen.GenRelinKey(sk, 0), "rk")), "rk"));

  // Galois keys.
  const std::vector<int> two = {1, -1};
  const ckks::GaloisKeys gk2 = Must(keygen.GenGaloisKeys(sk, two, false), "gk");
  const std::string gk2_bytes = Must(ckks::SerializeGaloisKeys(p, gk2), "gk");
  out.Write("galois_keys", "valid_two_rotations", gk2_bytes);
  const std::vector<int> one = {2};
  out.Write(
      "galois_keys", "valid_rotation_and_conjugation",
      Must(ckks::SerializeGaloisKeys(
               p, Must(keygen.GenGaloisKeys(sk, one, true), "gk")),
           "gk"));
  // Keys at different levels in one set (keys.h: a key for a low level).
  const std::vector<int> three = {3};
  ckks::GaloisKeys mixed = Must(keygen.GenGaloisKeys(sk, three, false, 0), "gk");
  for (auto& [g, key] : Must(keygen.GenGaloisKeys(sk, one, false), "gk").keys) {
    mixed.keys.emplace(g, std::move(key));
  }
  out.Write("galois_keys", "valid_mixed_levels",
            Must(ckks::SerializeGaloisKeys(p, mixed), "gk"));
  ckks::GaloisKeys empty;
  empty.fingerprint = p.fingerprint();
  out.Write("galois_keys", "valid_empty",
            Must(ckks::SerializeGaloisKeys(p, empty), "gk"));
  s = gk2_bytes.substr(0, kFields + 16);
  FixTotal(s);
  Put(s, kFields + 8, 0xffffffffu, 4);  // count
  out.Write("galois_keys", "bad_huge_count", s);
  s = gk2_bytes;
  const std::size_t entry = (gk2_bytes.size() - kFields - 16) / 2;
  for (int i = 0; i < 8; ++i) s[kFields + 16 + entry + i] = s[kFields + 16 + i];
  out.Write("galois_keys", "bad_duplicate_element", s);
}

}  // namespace
}  // namespace blindfold::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir, e.g. fuzz/corpus>\n", argv[0]);
    return 2;
  }
  blindfold::fuzz::Out out{std::filesystem::path(argv[1])};
  blindfold::fuzz::WriteParameters(out);
  blindfold::fuzz::WriteObjects(out);
  return 0;
}
