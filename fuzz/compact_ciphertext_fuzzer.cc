// libFuzzer target: DeserializeCompactCiphertext (a server's result on its
// way to the client) against the fixed fuzz parameters. An accepted one must
// re-serialize byte for byte and decrypt and decode without tripping a
// sanitizer.
#include "ckks/encoder.h"
#include "ckks/encryptor.h"
#include "ckks/keys.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace blindfold;
  const ckks::ParametersPtr& params = fuzz::FuzzParams();
  const std::string_view bytes = fuzz::AsView(data, size);
  const auto ct = ckks::DeserializeCompactCiphertext(*params, bytes);
  // The stored drop_bits (field byte 16) is the one to re-serialize with.
  const int drop = size > 24 + 16 ? data[24 + 16] : 0;
  fuzz::CheckRoundTrip(
      ct,
      [&](const ckks::Ciphertext& x) {
        return ckks::SerializeCompactCiphertext(
            *params, x, {static_cast<int>(x.slots()), drop});
      },
      data, size);
  if (!ct.ok()) return 0;
  static const ckks::Decryptor decryptor =
      *ckks::Decryptor::Create(params, ckks::KeyGenerator(params).GenSecretKey(),
                               ckks::DecryptionOptions::Exact());
  static const ckks::Encoder encoder(params);
  const auto pt = decryptor.DecryptNew(*ct);
  if (!pt.ok()) std::abort();  // a loaded ciphertext is valid by contract
  (void)encoder.DecodeComplex(*pt);
  return 0;
}
