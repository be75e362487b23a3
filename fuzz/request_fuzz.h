// File: fuzz/request_fuzz.h
// The input format of request_decoding_fuzzer, shared with the generator of
// its seeds (make_request_corpus.cc). Byte 0 picks the call:
//   even: a RegisterKeys stream: frames of [u32 little-endian length]
//         [a serialized RegisterKeysRequest], up to the end of the input;
//   odd:  an Infer call: the rest is one serialized InferRequest; 3 runs
//         the whole of Run (the plan too), other odd values decode only.
// The service's model is the committed logreg plan of the plan fuzzer
// (fuzz/corpus/plan/logreg_latency), registered under kFuzzKeyId.
#ifndef BLINDFOLD_FUZZ_REQUEST_FUZZ_H_
#define BLINDFOLD_FUZZ_REQUEST_FUZZ_H_

#include <cstdint>
#include <string>

namespace blindfold::fuzz {

inline constexpr char kFuzzKeyId[] = "0123456789abcdef0123456789abcdef";
inline constexpr char kFuzzModel[] = "logreg";

inline std::string Frame(const std::string& message) {
  std::string out;
  const uint32_t n = static_cast<uint32_t>(message.size());
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(n >> (8 * i)));
  return out + message;
}

}  // namespace blindfold::fuzz

#endif  // BLINDFOLD_FUZZ_REQUEST_FUZZ_H_
