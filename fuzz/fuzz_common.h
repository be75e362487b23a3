// File: fuzz/fuzz_common.h
// Shared by the deserializer fuzzers and the corpus generator: the fixed,
// deliberately tiny and INSECURE parameter set every fuzzer loads objects
// against (N = 16, so that a whole key fits a few hundred bytes), and the
// round-trip check each fuzzer applies to an accepted input.
#ifndef BLINDFOLD_FUZZ_FUZZ_COMMON_H_
#define BLINDFOLD_FUZZ_FUZZ_COMMON_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "ckks/parameters.h"
#include "ckks/serialization.h"

namespace blindfold::fuzz {

// N = 16, Q = 30 + 20 + 20 bits, P = 30 bits (dnum 3). The primes are
// written out (all = 1 mod 2N) so that the committed corpus keeps matching
// the parameter fingerprint even if prime generation ever changes.
inline ckks::ParametersLiteral FuzzLiteral() {
  ckks::ParametersLiteral lit;
  lit.log_n = 4;
  lit.q = {1073741441, 1048193, 1048129};
  lit.p = {1073739937};
  lit.log_default_scale = 15;
  return lit;
}

inline const ckks::ParametersPtr& FuzzParams() {
  static const ckks::ParametersPtr params = [] {
    auto p = ckks::Parameters::CreateInsecureForTesting(FuzzLiteral());
    if (!p.ok()) {
      std::fprintf(stderr, "fuzz: cannot build the fuzz parameters: %s\n",
                   std::string(p.status().message()).c_str());
      std::abort();
    }
    return *std::move(p);
  }();
  return params;
}

// If `obj` was accepted, serializes it again and aborts unless the bytes are
// identical to the input: the format is canonical, so any difference means
// the loader accepted something it should not have (or the writer is wrong).
template <typename T, typename Serialize>
void CheckRoundTrip(const absl::StatusOr<T>& obj, Serialize serialize,
                    const uint8_t* data, std::size_t size) {
  if (!obj.ok()) return;
  const absl::StatusOr<std::string> again = serialize(*obj);
  if (!again.ok()) {
    std::fprintf(stderr, "fuzz: accepted input fails to re-serialize: %s\n",
                 std::string(again.status().message()).c_str());
    std::abort();
  }
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  if (*again != in) {
    std::size_t i = 0;
    while (i < in.size() && i < again->size() && in[i] == (*again)[i]) ++i;
    std::fprintf(stderr,
                 "fuzz: round trip not byte-identical: %zu bytes in, %zu out, "
                 "first difference at byte %zu\n",
                 in.size(), again->size(), i);
    std::abort();
  }
}

inline std::string_view AsView(const uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace blindfold::fuzz

#endif  // BLINDFOLD_FUZZ_FUZZ_COMMON_H_
