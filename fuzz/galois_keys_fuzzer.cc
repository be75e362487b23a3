// libFuzzer target: DeserializeGaloisKeys against the fixed fuzz parameters.
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace blindfold;
  const ckks::Parameters& params = *fuzz::FuzzParams();
  const auto obj =
      ckks::DeserializeGaloisKeys(params, fuzz::AsView(data, size));
  fuzz::CheckRoundTrip(
      obj,
      [&](const ckks::GaloisKeys& x) {
        return ckks::SerializeGaloisKeys(params, x);
      },
      data, size);
  return 0;
}
