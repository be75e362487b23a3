// libFuzzer target: DeserializeParameters, secure and insecure.
#include "fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace blindfold;
  for (bool allow_insecure : {false, true}) {
    const auto params =
        ckks::DeserializeParameters(fuzz::AsView(data, size), allow_insecure);
    fuzz::CheckRoundTrip(
        params,
        [](const ckks::ParametersPtr& p) {
          return ckks::SerializeParameters(*p);
        },
        data, size);
    if (params.ok()) break;  // a secure set is also accepted as insecure
  }
  return 0;
}
