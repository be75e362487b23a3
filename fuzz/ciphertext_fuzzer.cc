// libFuzzer target: DeserializeCiphertext against the fixed fuzz parameters.
// An accepted ciphertext must round-trip byte for byte, and must decrypt and
// decode without tripping a sanitizer (it is well formed by contract).
#include "ckks/encoder.h"
#include "ckks/encryptor.h"
#include "ckks/keys.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace blindfold;
  const ckks::ParametersPtr& params = fuzz::FuzzParams();
  const auto ct =
      ckks::DeserializeCiphertext(*params, fuzz::AsView(data, size));
  fuzz::CheckRoundTrip(
      ct,
      [&](const ckks::Ciphertext& x) {
        return ckks::SerializeCiphertext(*params, x);
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
