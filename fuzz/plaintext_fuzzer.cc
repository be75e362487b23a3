// libFuzzer target: DeserializePlaintext against the fixed fuzz parameters.
// An accepted plaintext must round-trip byte for byte and decode without
// tripping a sanitizer.
#include "ckks/encoder.h"
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace blindfold;
  const ckks::ParametersPtr& params = fuzz::FuzzParams();
  const auto pt = ckks::DeserializePlaintext(*params, fuzz::AsView(data, size));
  fuzz::CheckRoundTrip(
      pt,
      [&](const ckks::Plaintext& x) {
        return ckks::SerializePlaintext(*params, x);
      },
      data, size);
  if (!pt.ok()) return 0;
  static const ckks::Encoder encoder(params);
  (void)encoder.DecodeComplex(*pt);
  return 0;
}
